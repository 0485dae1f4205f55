"""tests/nbtrim.py keeps what grading needs: a hand-made notebook, and every exported lesson."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nbtrim import bound_and_read, grading_cells


def test_scopes_magics_and_loops():
    bound, read = bound_and_read("%matplotlib inline\nimport numpy as np\nfor i in range(3):\n    y = i\n"
                                 "def f(a, n_critic):\n    z = a + w + n_critic\n    return [q for q in x]\n")
    assert bound == {"np", "i", "y", "f"}
    assert {"w", "x", "range"} <= read and not {"a", "z", "q", "n_critic"} & read


def _cell(src, **nbgrader):
    c = new_code_cell(src)
    if nbgrader:
        c.metadata["nbgrader"] = nbgrader
    return c


def test_keeps_the_setup_answers_tests_and_what_they_need_transitively():
    nb = new_notebook(cells=[
        new_markdown_cell("# lesson"),
        _cell("SETUP = 1"),
        _cell("import numpy as np\nbase = np.arange(3)"),   # needed through `data`
        _cell("data = base * 2"),                          # read by the answer
        _cell("slow = sum(range(10**6))"),                 # an experiment: dropped
        _cell("data = data + 0\nplot = 1"),                # rebinds data after... still before the answer
        _cell("def answer(n_critic):\n    return data + n_critic", solution=True),
        _cell("for n_critic in (1, 2):\n    pass"),         # binds n_critic, which no kept cell reads
        _cell("assert answer(1) is not None", grade=True),
    ])
    kept = [c.source for c in grading_cells(nb).cells]
    assert kept == ["# lesson", "SETUP = 1", "import numpy as np\nbase = np.arange(3)", "data = base * 2",
                    "data = data + 0\nplot = 1", nb.cells[6].source, nb.cells[8].source]
