"""The widgets compared: how to show each peer and act on it, nblabel driven the same way, the
order they run in, and the peers' own virtual environment."""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

from benchmarks._lib.page import LABELS, classification_cells
from benchmarks._lib.report import REPO

DEFAULT_VENV = Path.home() / ".cache" / "nblabel-bench" / "peers-venv"

# What makes the peers run on JupyterLab 4 / ipywidgets 8 (shared/reference/peers.md §4):
# superintendent breaks with sqlmodel >= 0.0.45 (naive datetimes); pigeonXT's metadata pins
# jupyterlab<4, pandas<2 and numpy<2, so it goes in without its dependencies.
PEER_REQUIREMENTS = [
    "ipyannotations==0.5.1",
    "superintendent==0.6.0",
    "sqlmodel==0.0.44",
    "jupyter-bbox-widget==0.7.0",
    "psutil",
]
PEER_NO_DEPS = ["pigeonxt-jupyter==0.7.3"]
# Same front end and kernel versions as nblabel's own benchmarks (the environment running this).
SAME_AS_HERE = ["jupyterlab", "jupyter_server", "ipykernel", "ipywidgets", "anywidget"]

# --------------------------------------------------------------------------- the widgets

_LOAD = (
    "import json\nfrom pathlib import Path\n"
    "paths = json.loads(Path('images.json').read_text())\n"
    "texts = json.loads(Path('texts.json').read_text())\n"
    "answers = []\n"
)


@dataclasses.dataclass(frozen=True)
class Widget:
    """How to show one labeling widget and act on it."""

    name: str  # e.g. "ipyannotations"
    media: str  # "images" | "texts"
    action: str  # "click" | "key"
    setup: str  # cell 0: make the widget (the data lists are loaded first)
    show: str = "w"  # cell 1: its output is the widget
    item: str = ""  # CSS selector of the element showing the item ('' = nblabel)
    img: bool = False  # the item is an <img>: wait for load + decode
    src_sig: bool = False  # the same <img> gets a new src per item (else a new element per item)
    targets: tuple[str, ...] = ()  # click: one selector per label, used in turn
    keys: tuple[str, ...] = ()  # key: the keys, in turn
    focus: str = ""  # key: element to focus first

    @property
    def label(self) -> str:
        return f"{self.name} ({self.media}, {self.action})"


_BUTTONS = tuple(f'button[title="{c}"]' for c in LABELS)

PEERS = [
    Widget(
        "ipyannotations ClassLabeller",
        "images",
        "click",
        _LOAD + "from ipyannotations.images import ClassLabeller\n"
        "items = iter(paths)\n"
        f"w = ClassLabeller(options={LABELS!r}, image_size=(800, 600), allow_freetext=False)\n"
        "def on_submit(label):\n"
        "    answers.append(label)\n"
        "    w.display(next(items, paths[0]))\n"
        "w.on_submit(on_submit)\n"
        "w.display(next(items))",
        item=".jp-RenderedImage img",
        img=True,
        targets=_BUTTONS,
    ),
    Widget(
        "superintendent + ipyannotations",
        "images",
        "click",
        _LOAD + "from ipyannotations.images import ClassLabeller\n"
        "from superintendent import Superintendent\n"
        f"c = ClassLabeller(options={LABELS!r}, image_size=(800, 600), allow_freetext=False)\n"
        "w = Superintendent(features=paths, labelling_widget=c, "
        "database_url='sqlite:///{{NAME}}.db')",
        item=".jp-RenderedImage img",
        img=True,
        targets=_BUTTONS,
    ),
    Widget(
        "jupyter-bbox-widget",
        "images",
        "key",
        _LOAD + "from jupyter_bbox_widget import BBoxWidget\n"
        "items = iter(paths)\n"
        f"w = BBoxWidget(image=next(items), classes={LABELS!r})\n"
        "@w.on_submit\n"
        "def _():\n"
        "    answers.append(w.bboxes)\n"
        "    w.bboxes = []\n"
        "    w.image = next(items, paths[0])",
        item="img[alt='annotate me']",
        img=True,
        src_sig=True,
        keys=("Enter",),
        focus=".wrapper",
    ),
    Widget(
        "ipyannotations ClassLabeller",
        "texts",
        "click",
        _LOAD + "from ipyannotations.text import ClassLabeller\n"
        "items = iter(texts)\n"
        f"w = ClassLabeller(options={LABELS!r}, allow_freetext=False)\n"
        "def on_submit(label):\n"
        "    answers.append(label)\n"
        "    w.display(next(items, texts[0]))\n"
        "w.on_submit(on_submit)\n"
        "w.display(next(items))",
        item=".jp-RenderedMarkdown",
        targets=_BUTTONS,
    ),
    Widget(
        "pigeonXT",
        "texts",
        "click",
        _LOAD + "import pigeonXT as pixt",
        show=f"df = pixt.annotate(texts, options={LABELS!r}, task_type='classification')",
        item=".widget-output .widget-html-content",
        targets=_BUTTONS,
    ),
]


def nblabel_widget(media: str, action: str) -> Widget:
    """nblabel on the same items, driven like the peer before it (its class buttons or keys 1-3)."""
    return Widget(
        "nblabel",
        media,
        action,
        setup="",  # classification_cells() makes the job
        show="job",
        targets=tuple(f"[data-testid=nbl-class-{i}]" for i in range(len(LABELS))),
        keys=tuple(str(i + 1) for i in range(len(LABELS))),
        focus="[data-testid=nbl-position]",  # clicking the header focuses the widget root
    )


def cells(widget: Widget, name: str) -> list[str]:
    if widget.name == "nblabel":
        return classification_cells(widget.media, name)
    return [widget.setup.replace("{{NAME}}", name), widget.show]


# --------------------------------------------------------------------------- environment


def requirements() -> list[str]:
    pins = []
    for pkg in SAME_AS_HERE:
        try:
            pins.append(f"{pkg}=={metadata.version(pkg)}")
        except metadata.PackageNotFoundError:
            pins.append(pkg)
    return pins + PEER_REQUIREMENTS


def ensure_venv(venv: Path) -> Path:
    """Create or update the peers' environment; returns its python. A stamp of what was installed
    (requirements and this checkout's path) skips pip when nothing changed."""
    python = venv / "bin" / "python"
    want = {"requirements": requirements(), "no_deps": PEER_NO_DEPS, "nblabel": str(REPO)}
    stamp = venv / "nblabel-bench.json"
    if python.exists() and stamp.exists() and json.loads(stamp.read_text()) == want:
        return python
    print(f"installing the peers into {venv} (a few minutes the first time) ...", flush=True)
    if not python.exists():
        venv.parent.mkdir(parents=True, exist_ok=True)
        base = getattr(sys, "_base_executable", None) or sys.executable
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-U", "pip"], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *want["requirements"]], check=True)
    subprocess.run([*pip, "--no-deps", *PEER_NO_DEPS], check=True)
    # nblabel from this checkout, with its dependencies (its JS must have been built: make install)
    subprocess.run([*pip, "-e", str(REPO)], check=True)
    stamp.write_text(json.dumps(want, indent=1))
    return python


def venv_versions(python: Path) -> dict[str, str]:
    pkgs = [*SAME_AS_HERE, "ipyannotations", "superintendent", "sqlmodel", "jupyter-bbox-widget"]
    pkgs += ["pigeonxt-jupyter", "ipyevents", "pandas", "nblabel"]
    code = (
        "import json, sys\nfrom importlib import metadata\nout = {}\n"
        f"for p in {pkgs!r}:\n"
        "    try: out[p] = metadata.version(p)\n"
        "    except metadata.PackageNotFoundError: out[p] = 'n/a'\n"
        "out['python'] = sys.version.split()[0]\nprint(json.dumps(out))"
    )
    return json.loads(
        subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
    )


def plan(args: argparse.Namespace) -> list[Widget]:
    """The interleaved sequence of one run: each peer, then nblabel on the same media and action."""
    medias = {"both": ["images", "texts"], "images": ["images"], "texts": ["texts"]}[args.media]
    wanted = [w.strip().lower() for w in args.peers.split(",")] if args.peers else None
    out = []
    for w in PEERS:
        if w.media in medias and (wanted is None or any(x in w.name.lower() for x in wanted)):
            out += [w, nblabel_widget(w.media, w.action)]
    return out


def memory_plan(sequence: Sequence[Widget]) -> list[Widget]:
    """One series per widget and media for the kernel memory, nblabel first, slow peers last."""
    seen: dict[tuple[str, str], Widget] = {}
    for w in sequence:
        seen.setdefault((w.name, w.media), w)
    slow = {(p.name, p.media) for p in PEERS if p.img and not p.src_sig}  # a PNG per item in an Output
    return sorted(seen.values(), key=lambda w: (w.name != "nblabel", (w.name, w.media) in slow))
