"""The lessons' widgets work with ipywidgets 7.7, the version Google Colab ships.

ipywidgets 7.7 (with ipython_genutils, which it imports) is installed with ``pip --no-deps
--target`` into a cache folder, reused between runs (``.pytest_cache/d/ipywidgets7``, or
``/tmp/wgan-lessons-ipyw7`` without pytest's cache), and put first on the ``PYTHONPATH`` of a
kernel of this venv; everything else (torch, the package) is this venv's. In that kernel
``wgan_lessons.widgets.TrainingLab`` is built, displayed and run for 2 steps; until that module
exists, sliders like the lessons' are built with ``ipywidgets.interactive`` and moved instead.
Skips only when pip cannot fetch ipywidgets 7.7.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PINS = ["ipywidgets==7.7.*", "widgetsnbextension==3.6.*", "jupyterlab_widgets==1.1.*", "ipython_genutils==0.2.*"]
WIDGETS_MODULE = ROOT / "wgan_lessons" / "widgets.py"

CHECK_VERSION = """\
import ipywidgets
print("ipywidgets", ipywidgets.__version__, "from", ipywidgets.__file__)
assert ipywidgets.__version__.startswith("7.7"), ipywidgets.__version__
assert ipywidgets.__file__.startswith({target!r}), ipywidgets.__file__
"""

TRAINING_LAB = """\
from wgan_lessons.widgets import TrainingLab
lab = TrainingLab()
display(lab)
lab.run(2)
print("TrainingLab ran 2 steps")
"""

SLIDERS = """\
import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
calls = []
def show(shift=0.0, n=200, method="wgan-gp"):
    calls.append((shift, n, method))
    x = np.linspace(-3, 3, n)
    plt.figure(figsize=(3, 2)); plt.plot(x, np.exp(-(x - shift) ** 2)); plt.title(method); plt.show()
w = W.interactive(show,
                  shift=W.FloatSlider(0.0, min=-2, max=2, step=0.5, description="shift", continuous_update=False),
                  n=W.IntSlider(200, min=50, max=400, step=50, style={"description_width": "initial"}),
                  method=W.Dropdown(options=["gan", "wgan", "wgan-gp"], value="wgan-gp"))
display(w)
"""

MOVE_SLIDERS = """\
w.children[0].value = 1.5
w.children[2].value = "wgan"
assert calls[-1] == (1.5, 200, "wgan"), calls
print("sliders moved:", calls)
"""


def _cache_dir(config) -> Path:
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("ipywidgets7"))
    return Path(tempfile.gettempdir()) / "wgan-lessons-ipyw7"


@pytest.fixture(scope="module")
def ipywidgets7(request) -> Path:
    """A folder holding ipywidgets 7.7 and its Jupyter-side packages, installed once and reused."""
    base = _cache_dir(request.config)
    site = base / "site"
    if (site / ".complete").exists():
        return site
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="site-", dir=base))
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input", "--disable-pip-version-check",
           "--quiet", "--target", str(tmp), *PINS]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip("pip could not fetch ipywidgets 7.7 within 180 s")
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.skip(f"pip could not fetch ipywidgets 7.7 ({' '.join(PINS)}):\n{proc.stderr[-1500:]}")
    (tmp / ".complete").write_text(" ".join(PINS) + "\n")
    shutil.rmtree(site, ignore_errors=True)
    tmp.rename(site)
    return site


def test_widgets_work_with_ipywidgets_7_7_in_a_kernel(ipywidgets7, tmp_path):
    from nbclient import NotebookClient

    v4 = nbformat.v4
    cells = [v4.new_code_cell(CHECK_VERSION.format(target=str(ipywidgets7)))]
    if WIDGETS_MODULE.exists():
        cells.append(v4.new_code_cell(TRAINING_LAB))
        what = "wgan_lessons.widgets.TrainingLab"
    else:
        cells += [v4.new_code_cell(SLIDERS), v4.new_code_cell(MOVE_SLIDERS)]
        what = "ipywidgets.interactive sliders (wgan_lessons/widgets.py does not exist yet)"
    nb = v4.new_notebook(cells=cells)

    env = dict(os.environ, WGAN_LESSONS_FAST="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ipywidgets7)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.pop("MPLBACKEND", None)  # inline figures, as in a notebook
    client = NotebookClient(nb, timeout=180, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)

    errors = [f"cell {i}: {o.ename}: {o.evalue}\n" + "\n".join(o.traceback)[-2000:]
              for i, c in enumerate(nb.cells) for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{what} fails under ipywidgets 7.7:\n" + "\n".join(errors)
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.outputs if o.output_type == "stream")
    assert "ipywidgets 7.7" in printed, printed

    # The widgets really went through ipywidgets 7's protocol (controls 1.5.0; ipywidgets 8 says 2.0.0)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    assert state, "no widget was displayed"
    controls = {m["model_module_version"] for m in state.values() if m["model_module"] == "@jupyter-widgets/controls"}
    assert controls == {"1.5.0"}, controls
    print(f"\nipywidgets 7.7 ({ipywidgets7}): {what}: OK, {len(state)} widget models", file=sys.stderr)
