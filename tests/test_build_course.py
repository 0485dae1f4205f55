"""scripts/build_course.py (``make course``): executes lessons and writes a static HTML copy with an index.

Runs the script in fast mode on one tiny notebook written here, so it stays independent of the
lessons being written and takes a few seconds.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "build_course.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("build_course", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_lesson_title_is_the_first_markdown_heading():
    title = _load_script().lesson_title
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[v4.new_code_cell("1"), v4.new_markdown_cell("intro\n# Lesson 02: W in 1-D #\ntext")])
    assert title(nb) == "Lesson 02: W in 1-D"
    assert title(v4.new_notebook(cells=[v4.new_markdown_cell("## not a title")])) is None
    assert title(v4.new_notebook()) is None


@pytest.fixture
def tiny_notebook(tmp_path):
    v4 = nbformat.v4
    nb = v4.new_notebook(cells=[
        v4.new_markdown_cell("# Tiny lesson: <W> & friends\n\nLearning goals: none. Time: 1 minute."),
        v4.new_code_cell("import os\nprint('fast env =', os.environ.get('WGAN_LESSONS_FAST'))"),
        v4.new_code_cell("import matplotlib.pyplot as plt\nplt.figure(figsize=(2, 2)); plt.plot([0, 1]); plt.show()"),
        v4.new_code_cell("import ipywidgets as W\nW.IntSlider(3, description='steps')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = tmp_path / "src"
    src.mkdir()
    path = src / "07_tiny.ipynb"
    nbformat.write(nb, path)
    return path


def test_build_course_fast_on_one_notebook(tiny_notebook, tmp_path):
    out = tmp_path / "course"
    env = dict(os.environ, MPLBACKEND="Agg")  # the script must drop it so figures render inline
    env.pop("WGAN_LESSONS_FAST", None)       # --fast must set it for the kernel
    proc = subprocess.run([sys.executable, str(SCRIPT), "--fast", "--out", str(out), str(tiny_notebook)],
                          capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "07_tiny.ipynb:" in proc.stdout and " s -> " in proc.stdout, proc.stdout  # seconds printed

    page = out / "07_tiny.html"
    assert page.is_file()
    body = page.read_text(encoding="utf-8")
    assert "fast env = 1" in body
    assert "<title>Tiny lesson: &lt;W&gt; &amp; friends</title>" in body
    assert 'src="data:image/png;base64' in body, "no inline figure: the kernel must use the inline backend"
    assert "application/vnd.jupyter.widget-state+json" in body, "widget state not embedded"
    assert not list(tiny_notebook.parent.glob("*.html")), "the source folder must stay untouched"
    assert nbformat.read(tiny_notebook, as_version=4).cells[1].outputs == [], "the source notebook must stay clean"

    index = (out / "index.html").read_text(encoding="utf-8")
    assert '<a href="07_tiny.html">Tiny lesson: &lt;W&gt; &amp; friends</a>' in index
    assert "07_tiny.ipynb" in index  # its Open-in-Colab link
    assert "fast mode" in index


def test_build_course_reports_a_failing_notebook(tmp_path):
    v4 = nbformat.v4
    bad = tmp_path / "01_bad.ipynb"
    nbformat.write(v4.new_notebook(cells=[v4.new_markdown_cell("# Bad"), v4.new_code_cell("1/0")]), bad)
    proc = subprocess.run([sys.executable, str(SCRIPT), "--fast", "--out", str(tmp_path / "out"), str(bad)],
                          capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert proc.returncode == 1
    assert "01_bad.ipynb: FAILED" in proc.stderr and "ZeroDivisionError" in proc.stderr
    assert not (tmp_path / "out" / "01_bad.html").exists()
