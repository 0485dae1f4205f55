"""What grading a lesson needs, and nothing else: a released notebook cut down to its answer and test
cells, the setup cell, and every read-only code cell those cells depend on (transitively) for a name.

Used by the nbgrader round trips (tests/test_nbgrader.py, tests/test_grading_trust.py): the
lesson's experiments play no part in its grade, and tests/test_notebooks.py runs every lesson in
full. The dependencies are found by name: a kept cell that reads ``x`` keeps the latest earlier
cell that binds ``x`` (by assignment, import, def, class, for, with ... as), and so on. A name read
but bound nowhere is a builtin or comes from the kernel. Magics are turned into Python by IPython
first, so ``%matplotlib inline`` parses.
"""

from __future__ import annotations

import copy
import symtable

__all__ = ["bound_and_read", "cells_needed", "grading_cells"]


def _python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def bound_and_read(source: str) -> tuple[set, set]:
    """(names a cell binds at module level, global names it reads), from Python's own scope analysis
    (:mod:`symtable`): a function's parameters and locals are not reads of the notebook's names."""
    top = symtable.symtable(_python(source), "<cell>", "exec")
    bound = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported() or s.is_namespace()}
    read = {s.get_name() for s in top.get_symbols() if s.is_referenced()}
    todo = list(top.get_children())
    while todo:
        t = todo.pop()
        read.update(s.get_name() for s in t.get_symbols() if s.is_referenced() and s.is_global())
        todo.extend(t.get_children())
    return bound, read


def grading_cells(nb, setup_cells: int = 2):
    """A copy of ``nb`` (nbformat) keeping its markdown cells, its first ``setup_cells`` cells, every cell
    with nbgrader ``solution`` or ``grade`` metadata, and the code cells these need for a name."""
    keep = {i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" or i < setup_cells
            or c.metadata.get("nbgrader", {}).get("solution") or c.metadata.get("nbgrader", {}).get("grade")}
    return cells_needed(nb, keep)


def cells_needed(nb, keep):
    """A copy of ``nb`` keeping the cells whose indices are in ``keep`` and every earlier code cell they
    need for a name, transitively (the latest earlier cell that binds it)."""
    cells = nb.cells
    info = [bound_and_read(c.source) if c.cell_type == "code" else (set(), set()) for c in cells]
    keep = set(keep)
    todo = sorted(i for i in keep if cells[i].cell_type == "code")
    while todo:
        i = todo.pop()
        for name in info[i][1]:
            for j in range(i - 1, -1, -1):  # the latest earlier cell that binds it
                if name in info[j][0]:
                    if j not in keep:
                        keep.add(j)
                        todo.append(j)
                    break
    out = copy.deepcopy(nb)
    out.cells = [c for i, c in enumerate(out.cells) if i in keep]
    return out
