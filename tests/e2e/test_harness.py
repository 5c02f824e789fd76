"""Smoke test of the e2e harness, on JupyterLab and Notebook 7."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

# Inline anywidget: proves the prebuilt anywidget front end loads ESM sent by the kernel,
# with no JupyterLab extension build.
SMOKE_WIDGET = '''\
import anywidget

class Smoke(anywidget.AnyWidget):
    _esm = """
    export default {
      render({ el }) {
        const d = document.createElement("div");
        d.dataset.testid = "smoke";
        d.textContent = "hi";
        el.appendChild(d);
      },
    };
    """

Smoke()
'''


@pytest.mark.notebook7
def test_run_restart_and_anywidget(notebook):
    nb = notebook(["print(6*7)", "before_restart = 1", SMOKE_WIDGET])

    nb.run_cell(0)
    assert nb.cell_output_text(0).strip() == "42"

    nb.run_cell(2)
    expect(nb.page.get_by_test_id("smoke")).to_have_text("hi")

    nb.run_cell(1)
    nb.restart_kernel()
    i = nb.add_cell("print(before_restart)")
    assert nb.run_cell(i) == 1  # execution count starts over in the new kernel process
    assert "NameError" in nb.cell_output_text(i)
