"""Execute the notebooks at small settings (TACJAX_NB_SMOKE=1) so they cannot rot."""

import os
import pathlib
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _kernel_name() -> str:
    """A kernelspec that runs this interpreter (the venv's own 'python3' when ipykernel is installed)."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().get_all_specs()
    if "python3" not in specs:
        pytest.fail("no 'python3' Jupyter kernelspec: run `python -m ipykernel install --sys-prefix`")
    return "python3"


def test_notebooks_exist():
    want = {"quickstart.ipynb", "collapse_vs_preserve.ipynb", "streaming.ipynb"}
    assert {p.name for p in NOTEBOOKS} >= want


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch, tmp_path):
    monkeypatch.setenv("TACJAX_NB_SMOKE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name=_kernel_name(),
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert text.strip(), "the notebook printed nothing"
