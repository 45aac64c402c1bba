"""Each walkthrough in `recipes/` is the single source of its notebook."""

from pathlib import Path

import jupytext
import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
WALKTHROUGHS = sorted((REPO / "recipes").glob("*.py"))


def _sources(notebook):
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_walkthrough_has_a_notebook():
    assert WALKTHROUGHS, "no walkthroughs found"
    notebooks = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))
    assert notebooks == [p.stem for p in WALKTHROUGHS]


@pytest.mark.parametrize("source", WALKTHROUGHS, ids=lambda p: p.stem)
def test_notebook_is_up_to_date(source):
    expected = jupytext.read(source)
    committed = nbformat.read(REPO / "notebooks" / f"{source.stem}.ipynb", 4)
    assert _sources(committed) == _sources(expected), (
        f"notebooks/{source.stem}.ipynb is out of date; regenerate it with "
        f"jupytext --to ipynb recipes/{source.stem}.py -o notebooks/"
        f"{source.stem}.ipynb"
    )


# Two notebooks run by default (a classifier, and a model with its own
# training step); every notebook runs with `pytest -m slow`.
RUN_BY_DEFAULT = {"small_data_classifier", "vae"}
RUNS = [
    p if p.stem in RUN_BY_DEFAULT else pytest.param(p, marks=pytest.mark.slow)
    for p in WALKTHROUGHS
]


@pytest.mark.parametrize("source", RUNS, ids=lambda p: p.stem)
def test_notebook_runs_in_quick_mode(source, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("KERAS_RECIPES_QUICK", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    notebook = nbformat.read(REPO / "notebooks" / f"{source.stem}.ipynb", 4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    errors = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert not errors
    assert list(tmp_path.glob("runs/*/*/metrics.json")), "no run finished"
