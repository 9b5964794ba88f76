"""The notebooks: tidy in the repository, and each runs top to bottom.

The runs (mark `notebooks`, CI runs them after the default test run) go
through papermill with small parameters, so a notebook that raises fails
CI; a person runs the same notebooks with their full defaults.
"""

import ast
import json
import pathlib

import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "01_quickstart",
    "02_families_and_scaling",
    "03_search",
    "04_qat_and_export",
    "05_segmentation_and_detection",
    "06_finetune_to_int8",
]
# Small enough for CI on 2 cores (minutes in all), big enough to go through
# every cell: the tiny search skeleton, 32x32 digits, 1-epoch recipes.
CI_PARAMETERS = {
    "01_quickstart": {"weights": "untrained"},  # no network in CI
    "02_families_and_scaling": {"epochs": 1},
    "03_search": {
        "skeleton": "test_tiny", "budget": "40M", "trials": 3,
        "epochs_per_trial": 1, "retrain_top": 1, "retrain_epochs": 1,
        "qat_epochs": 1,
    },
    "04_qat_and_export": {
        "variant": "test_efficientnet", "resolution": 32, "epochs": 1,
        "qat_epochs": 1, "latency_runs": 5,
    },
    "05_segmentation_and_detection": {
        "train_images": 16, "seg_epochs": 1, "det_epochs": 1,
        "seg_width": 64, "det_size": 64,
    },
    "06_finetune_to_int8": {  # no network in CI: from scratch, tiny
        "model": "test_efficientnet_lite", "weights": "none",
        "image_size": 32, "epochs": 1, "freeze_epochs": 0, "qat_epochs": 1,
    },
}  # fmt: skip


def _load(name):
    with open(NOTEBOOKS / f"{name}.ipynb") as f:
        return json.load(f)


def _code_cells(notebook):
    return [c for c in notebook["cells"] if c["cell_type"] == "code"]


def test_the_six_notebooks_are_there():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED
    assert sorted(CI_PARAMETERS) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_committed_clean(name):
    notebook = _load(name)
    cells = _code_cells(notebook)
    # Outputs cleared: the repository holds sources, not results.
    for cell in cells:
        assert cell["outputs"] == [] and cell["execution_count"] is None
    # Exactly one parameters cell, and CI's parameters are names it sets.
    tagged = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    assigned = {
        target.id
        for node in ast.parse("".join(tagged[0]["source"])).body
        if isinstance(node, ast.Assign)
        for target in node.targets
    }
    assert set(CI_PARAMETERS[name]) <= assigned
    assert "workdir" in assigned
    # Nothing reusable is defined in a notebook: that belongs in tfeff.
    for cell in cells:
        tree = ast.parse(
            "".join(
                line
                for line in "".join(cell["source"]).splitlines(keepends=True)
                if not line.lstrip().startswith(("!", "%"))
            )
        )
        defined = [
            node.name
            for node in ast.walk(tree)
            if isinstance(
                node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)
            )
        ]
        assert not defined, f"{name} defines {defined}; move it into tfeff"


@pytest.mark.notebooks
@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs_top_to_bottom(name, tmp_path):
    papermill = pytest.importorskip("papermill")
    parameters = dict(CI_PARAMETERS[name], workdir=str(tmp_path / "work"))
    papermill.execute_notebook(
        str(NOTEBOOKS / f"{name}.ipynb"),
        str(tmp_path / f"{name}.ipynb"),
        parameters=parameters,
        cwd=str(NOTEBOOKS),
        kernel_name="python3",
        progress_bar=False,
    )
