"""examples/notebook.ipynb, executed in a real Jupyter kernel (nbclient starts ipykernel)
against the sandbox: every cell runs, the plot comes out as a PNG; and the README's
quick start opens with the notebook's one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support.activated import environment_for, sandbox_settings_in

pytestmark = pytest.mark.sandbox

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "notebook.ipynb"


def test_the_notebook_runs_every_cell_and_draws_its_plot(infnminio_sandbox, tmp_path):
    settings = sandbox_settings_in(infnminio_sandbox, tmp_path)
    env = environment_for(settings, tmp_path / "home")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    nbclient.NotebookClient(
        notebook, kernel_name="python3", timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    ).execute(env=env)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    outputs = [output for cell in code for output in cell.outputs]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert not [o for o in outputs if o.get("name") == "stderr"], outputs
    [activation_line] = [o["text"] for o in code[0].outputs]
    assert activation_line.startswith("infnminio-boto: s3:// is ") and "as sandbox-user" in (
        activation_line
    )
    images = [o for o in code[-1].outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1  # the figure, inline
    assert code[-2].outputs[0]["data"]["text/plain"] == "5000"  # uproot read every event


def test_the_readmes_notebook_section_opens_with_the_notebooks_line():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## In a notebook: one line", 1)[1]
    first_block = re.search(r"```(\w*)\n(.*?)```", quick_start, re.S)
    assert first_block is not None
    first_code_cell = next(
        c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"
    )
    assert first_block[2].strip() == first_code_cell.source.strip() == "%load_ext infnminio_boto"
