"""Drive JupyterLab 4 / Notebook 7 in headless Debian chromium with Playwright.

Shared by the browser tests (tests/e2e) and the benchmarks (benchmarks/); no pytest import, so a
benchmark run as ``python -m benchmarks.<name>`` from the repository root uses it as is::

    from playwright.sync_api import sync_playwright
    from tests.harness import JupyterServer, NotebookPage, launch_browser

    with JupyterServer("lab", root) as server, sync_playwright() as pw:
        browser = launch_browser(pw)
        nb = NotebookPage(browser.new_page(), server)
        nb.open("demo.ipynb", ["print(6*7)"])
        nb.run_cell(0)
        ...
        nb.close()
        browser.close()

:mod:`tests.harness.widgets` holds what drives nblabel's own widgets on such a page.
"""

from __future__ import annotations

from tests.harness.browser import CHROMIUM_ARGS, CHROMIUM_PATH, chromium_launch_args, launch_browser
from tests.harness.page import PAGE_ERROR_ALLOWLIST, NotebookPage
from tests.harness.server import JupyterServer

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_PATH",
    "PAGE_ERROR_ALLOWLIST",
    "JupyterServer",
    "NotebookPage",
    "chromium_launch_args",
    "launch_browser",
]
