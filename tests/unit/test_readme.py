"""Every ```python block of README.md runs, in order, in one namespace, in a temporary folder.

A block may be preceded by a hidden set-up, an HTML comment the README does not show::

    <!-- readme-test
    df = datasets.images().head(3)   # what the block assumes the reader already has
    -->

or by ``<!-- readme-test: compile only: <reason> -->`` for a block that needs what no test
machine has (an AWS account, a PostgreSQL server at the README's host): it is compiled, so a
syntax error still fails. Expression statements are evaluated like a notebook cell's last line:
a value that displays as a widget (a Job, the review grid) is rendered headless through its
``_repr_mimebundle_``, which builds the widget and its feed.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["s3_fixtures"]

README = Path(__file__).resolve().parents[2] / "README.md"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_BLOCK = re.compile(
    r"(?:<!-- readme-test(?P<compile>: compile only: [^\n]*?)?(?P<setup>\n.*?)?-->\s*\n[ \t]*)?"
    r"```python\n(?P<code>.*?)```",
    re.S,
)


def readme_blocks() -> list[tuple[int, str, str, bool]]:
    """(line, hidden set-up, code, compile only) for each ```python block, in order."""
    text = README.read_text(encoding="utf-8")
    return [
        (
            text.count("\n", 0, m.start("code")),
            m["setup"] or "",
            textwrap.dedent(m["code"]),  # a block inside a list item is indented
            bool(m["compile"]),
        )
        for m in _BLOCK.finditer(text)
    ]


def run_block(code: str, namespace: dict[str, Any], name: str) -> list[Any]:
    """Run ``code`` statement by statement; return the values its expression statements showed."""
    shown = []
    for node in ast.parse(code, name).body:
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), name, "eval"), namespace)
            if hasattr(value, "_repr_mimebundle_"):
                bundle = value._repr_mimebundle_()
                bundle = bundle[0] if isinstance(bundle, tuple) else bundle
                assert WIDGET_MIME in bundle, f"{name}: {value!r} did not display as a widget"
            shown.append(value)
        else:
            exec(compile(ast.Module([node], []), name, "exec"), namespace)
    return shown


def test_the_readme_has_python_blocks_and_most_run() -> None:
    blocks = readme_blocks()
    assert len(blocks) >= 10
    # Compile only: the SageMaker SDK, a PostgreSQL host, a torchvision or YOLO detector.
    assert sum(not only for *_, only in blocks) >= len(blocks) - 3


def test_every_readme_python_block_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3_env: Any, s3_direct: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NBLABEL_DATA_DIR", str(tmp_path / "data"))
    namespace: dict[str, Any] = {"__name__": "readme", "s3": s3_direct}  # s3: for set-ups
    jobs = []
    try:
        for line, setup, code, compile_only in readme_blocks():
            name = f"README.md:{line + 1}"
            if compile_only:
                compile(code, name, "exec")
                continue
            run_block(setup, namespace, f"{name} (set-up)")
            shown = run_block(code, namespace, name)
            jobs.extend(v for v in shown if type(v).__name__ == "Job")
        # What the Quickstart promised.
        assert (tmp_path / "output.manifest").is_file()
        assert (tmp_path / ".nblabel" / "fashion.sqlite").is_file()
    finally:
        for job in {id(j): j for j in jobs}.values():
            job.stop_autolabel()
