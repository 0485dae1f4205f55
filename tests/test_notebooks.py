"""Every lesson notebook: committed clean, opens the same way, and runs top to bottom in fast mode.

New notebooks in notebooks/ join automatically. Each one's seconds are printed (run pytest
with -s, or read the 'notebook seconds' summary at the end of the run).
"""

import sys
import time
from pathlib import Path

import nbformat
import pytest

from wgan_lessons.course import SETUP_CELL, colab_url, kernel_environment, notebook_client_class

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
TIMEOUT = 120  # seconds per cell in fast mode (the slowest cell takes ~20 s on a loaded 2-core machine)
ATTEMPTS = 2  # nbclient sometimes waits out the timeout after a widget cell (nbclient#312): retry once
SECONDS: dict[str, float] = {}

# pytest-xdist runs a test file in one worker (tests/conftest.py), so test_zz_total_notebook_time_under_five_minutes
# sees every notebook's time
pytestmark = pytest.mark.notebook


def _ids(paths):
    return [p.name for p in paths]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no lesson notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_opens_with_title_goals_time_badge_and_setup(path):
    nb = nbformat.read(path, as_version=4)
    first, setup = nb.cells[0], nb.cells[1]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "first cell: a markdown title"
    assert colab_url(path.name) in first.source, "first cell: the Open-in-Colab badge of this notebook"
    low = first.source.lower()
    assert "learning goals" in low and "time" in low, "first cell: learning goals and a time estimate"
    assert f"solutions/{path.name}" in first.source, "first cell: where learners find the worked solutions"
    assert setup.cell_type == "code" and setup.source.strip() == SETUP_CELL.strip(), \
        "second cell must be wgan_lessons.course.SETUP_CELL exactly"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_in_fast_mode(path, tmp_path, record_property):
    from nbclient.exceptions import CellTimeoutError

    NotebookClient = notebook_client_class()

    with kernel_environment(fast=True):  # the kernels inherit fast mode, Agg and one torch thread
        for attempt in range(1, ATTEMPTS + 1):
            nb = nbformat.read(path, as_version=4)
            client = NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}})
            t0 = time.perf_counter()
            try:
                client.execute()
                break
            except CellTimeoutError:
                if attempt == ATTEMPTS:
                    raise
                print(f"\n{path.name}: a cell timed out (attempt {attempt}); retrying", file=sys.stderr)
        SECONDS[path.name] = time.perf_counter() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    out = ROOT / "test-artifacts" / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / path.name)
    record_property(f"notebook_seconds:{path.name}", SECONDS[path.name])  # the run's summary line (conftest.py)
    print(f"\n{path.name}: {SECONDS[path.name]:.1f} s", file=sys.stderr)


def test_zz_total_notebook_time_under_five_minutes():
    if not SECONDS:
        pytest.skip("no notebook ran in this session")
    total = sum(SECONDS.values())
    summary = ", ".join(f"{k} {v:.1f}s" for k, v in SECONDS.items())
    print(f"\nnotebook seconds: {summary}; total {total:.1f}s", file=sys.stderr)
    assert total < 300, f"notebooks took {total:.0f}s in fast mode (budget 300s): {summary}"


LESSON_TEXTS = NOTEBOOKS + sorted((ROOT / "solutions").glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("path", LESSON_TEXTS, ids=[f"{p.parent.name}/{p.name}" for p in LESSON_TEXTS])
def test_markdown_has_no_control_characters(path):
    """A backslash eaten by a string escape: "\\text" written as "\\t" + "ext" leaves a TAB and breaks the
    formula ($1/\\sqrt{<TAB>ext{fan-in}}$ shipped in lesson 05); "\\b", "\\f", "\\r", "\\a", "\\v" do the same
    to \\beta, \\frac, \\right, ... A markdown cell has no business holding any control character but a
    newline."""
    import re

    nb = nbformat.read(path, as_version=4)
    bad = [(i, repr(c.source[max(0, m.start() - 25):m.end() + 15])) for i, c in enumerate(nb.cells)
           if c.cell_type == "markdown" for m in re.finditer(r"[\x00-\x09\x0b-\x1f\x7f]", c.source)]
    assert not bad, f"control characters in markdown (cell, context): {bad}"
