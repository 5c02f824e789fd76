"""Progress on long S3 transfers: a text bar in a real terminal (a pty), none in a pipe, an HTML bar
in a real Jupyter kernel; the headless core never imports IPython for it."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from nblabel.io.progress import Progress, in_kernel

pytest_plugins = ["s3_fixtures"]

SRC = Path(__file__).resolve().parents[3] / "src"

# Writes then reads a ~20 MB manifest (above the 16 MB threshold for a bar).
SCRIPT = textwrap.dedent(
    """
    import sys
    import nblabel
    rows = ({"source": "x" * 1000, "i": i} for i in range(20_000))
    nblabel.write_manifest(rows, "s3://{bucket}/progress.manifest")
    df = nblabel.read_manifest("s3://{bucket}/progress.manifest")
    assert len(df) == 20_000
    print("IPython imported:", "IPython" in sys.modules)
    """
)


def _env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NBLABEL_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL_S3=endpoint,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONPATH=str(SRC),
    )
    return env


def test_a_text_bar_in_a_terminal(s3_server, bucket: str) -> None:
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.replace("{bucket}", bucket)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=secondary,
        env=_env(s3_server.endpoint),
    )
    os.close(secondary)
    screen = bytearray()
    while True:  # read the terminal until the program closes it
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        screen += chunk
    os.close(primary)
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, screen.decode(errors="replace")
    text = screen.decode()
    upload = f"\rupload s3://{bucket}/progress.manifest: "
    download = f"\rdownload s3://{bucket}/progress.manifest: "
    assert upload in text and download in text
    assert f"{download}100% [{'#' * 30}]" in text  # the size is known when reading
    assert re.search(r"100% \[#+\] 20\.\d MB/20\.\d MB [\d.]+ MB/s\r\n$", text)  # a pty ends lines with \r\n
    assert b"IPython imported: False" in out


def test_no_bar_when_stderr_is_not_a_terminal(s3_server, bucket: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("{bucket}", bucket)],
        capture_output=True,
        env=_env(s3_server.endpoint),
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == b""


def test_progress_counts_and_respects_settings(monkeypatch) -> None:
    stream = io.StringIO()
    with Progress("copy", total=4, unit="files", enabled=True, stream=stream) as bar:
        for _ in range(4):
            bar.update(1)
    assert re.search(rf"\rcopy: 100% \[{'#' * 30}\] 4/4 files [\d.,]+ files/s\n$", stream.getvalue())
    quiet = io.StringIO()
    with Progress("copy", total=10**9, stream=quiet) as bar:  # large, but a StringIO is no terminal
        bar.update(10**9)
    assert quiet.getvalue() == ""
    monkeypatch.setenv("NBLABEL_PROGRESS", "1")
    forced = io.StringIO()
    with Progress("copy", total=10, stream=forced) as bar:
        bar.update(10)
    assert "copy: 100%" in forced.getvalue()
    assert not in_kernel()


def test_an_html_bar_in_a_notebook_kernel(s3_server, bucket: str, tmp_path: Path, monkeypatch) -> None:
    for name, value in _env(s3_server.endpoint).items():
        monkeypatch.setenv(name, value)
    code = SCRIPT.replace("{bucket}", bucket)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = nb.cells[0].outputs
    html = [
        o["data"]["text/html"] for o in outputs if o.output_type in ("display_data", "update_display_data")
    ]
    # nbclient folds update_display_data into the displayed output: the final state remains.
    assert any("nblabel-progress" in h and "100%" in h and "download" in h for h in html), outputs
    assert any("nblabel-progress" in h and "upload" in h for h in html), outputs
    streams = [o for o in outputs if o.output_type == "stream"]
    assert all(o.name == "stdout" for o in streams)  # no text bar on stderr in a notebook
    assert "IPython imported: True" in "".join(o.text for o in streams)


def test_a_bar_told_done_and_total_opens_only_past_its_threshold() -> None:
    stream = io.StringIO()
    bar = Progress("features", unit="images", enabled=None, threshold=100, stream=stream)
    bar.report(64, 300)  # below the threshold: not shown yet
    assert (bar.count, bar.total, stream.getvalue()) == (64, 300, "")
    with Progress("features", unit="images", enabled=True, threshold=100, stream=stream) as shown:
        shown.report(128, 300)
        shown.report(300, 300)
    assert re.search(r"features: 100% \[#+\] 300/300 images", stream.getvalue())


def test_a_bar_with_a_total_says_about_how_long_is_left(monkeypatch) -> None:
    clock = iter([0.0, 20.0])  # opened at 0 s; a quarter done at 20 s
    monkeypatch.setattr("nblabel.io.progress.time.monotonic", lambda: next(clock))
    stream = io.StringIO()
    bar = Progress("features", total=400, unit="images", enabled=True, stream=stream)
    bar.report(100, 400)
    assert "100/400 images 5.0 images/s, about 60 s left" in stream.getvalue()
