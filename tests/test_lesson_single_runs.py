"""The numbers lessons 05 and 06 quote from single runs (seed 0, a cell's own settings: the labs, the value
surfaces, the draws of epsilon, the lambda / n_critic sweep, the side-by-side run), re-measured.

The 5-seed claims have their own tests (tests/test_lesson_0*_claims.py). The numbers here come from one cell
each; the test runs exactly those cells, with every earlier cell they need for a name
(``tests/nbtrim.cells_needed``), in a fresh kernel at full settings, and looks for each number the text
quotes, as the cell prints it, in what the cells printed (where the text rounds, "about 1e-03", the printed
value is checked, which implies it). Training on the CPU is reproducible bit for bit
with the same torch build (README, "What is reproducible"). If a number is not found, the lesson's text no
longer matches what its cells print: re-run the lesson, then update its text and this list together.

Budget: lesson 05's cells about 50 s, lesson 06's about 190 s (the sweep 100 s, the side-by-side run 70 s),
one torch thread each.
"""

from pathlib import Path

import nbformat
import pytest

from float32 import quoted_numbers
from nbtrim import cells_needed
from wgan_lessons.course import kernel_environment, notebook_client_class

ROOT = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, quoted_numbers]

#: lesson -> [(a piece of the measuring cell's source that finds it, [what its output must contain])]
CASES = {
    "05_wgan_weight_clipping.ipynb": [
        ("lab.run(lab_steps)", [  # section 2, the lab on ring8
            "step 300", "4 of 8 modes, 0.8% high quality", "exact W1 0.535 on 500 samples",
            "-L_D = 4.41e-04", "8.2e-04 times the exact W1", "75% of its 132609 parameters",
            "clamped into the box: 85%"]),
        ("lab25.run(lab_steps)", [  # section 3, the lab on grid25
            "7 of 25 modes, 1.8% high quality", "exact W1 0.354", "-L_D = 1.29e-04", "3.6e-04 times",
            "70% of its 132609 parameters", "clamped into the box: 85%"]),
        ("surfaces = value_surfaces(", [  # section 6, the value surfaces
            "ring8: clipped critic's estimate 8.30e-04 (at 80% of its steps 8.01e-04), penalised critic's 0.598; "
            "exact W1 0.845 (71% of it",
            "grid25: clipped critic's estimate 1.16e-03 (at 80% of its steps 1.13e-03), penalised critic's 0.495; "
            "exact W1 0.577 (86% of it",
            "swissroll: clipped critic's estimate 1.04e-03 (at 80% of its steps 1.02e-03), penalised critic's "
            "0.540; exact W1 0.596 (91% of it"]),
    ],
    "06_wgan_gp.ipynb": [
        ("eps_pixel = torch.rand(", [  # section 2: the one draw of eps per batch, ~0.004
            "one eps per batch: inside sample 0, eps ranges over [0.004, 0.004]"]),
        ("penalties = {", ["3.6x the std of one eps per sample"]),  # section 2: 200 draws each way
        ("norms_dim1 = grad.norm(", ["sqrt(64) = 8", "1/sqrt(16) = 0.25",  # section 3
                                     "connected to the critic's weights? False (with create_graph: True)"]),
        ("critic_bn = copy.deepcopy(", [  # section 5: layer norm couples nothing, batch norm does
            "layer norm (ConvCritic): f(x_0) -0.0920 -> -0.0920 when sample 5 changes; the penalty's gradient at "
            "sample 0 moves by 0.0000", "over the other samples j: 0.0000\n"]),
        ("sweep_steps = scaled(", [  # section 6: lambda and n_critic (the seconds column is not compared)
            "  0.001        3 |             76.981    6.283  19.365    0.271     8   6.5",
            "    0.1        3 |              1.831    0.126   0.370    0.166     8  31.1",
            "     10        3 |              0.942    0.521  -0.052    1.323     0   0.0",
            "    0.1        1 |              1.935    0.148   0.681    0.455     7   0.9"]),
        ("pair.run(", [  # section 7: clipping and the penalty side by side, 400 steps on seed 0
            "wgan-clipping: step 400", "3 of 8 modes, 0.8% high quality", "exact W1 0.473, critic's estimate "
            "W-hat 0.0004", "stable-wgan-gp: step 400", "6 of 8 modes, 8.4% high quality", "exact W1 0.233",
            "77% of its 132609 parameters"]),
    ],
}


def _run(path: Path, needles: list[str]):
    nb = nbformat.read(path, as_version=4)
    found = [i for n in needles for i, c in enumerate(nb.cells) if c.cell_type == "code" and n in c.source]
    assert len(found) == len(needles), f"{path.name}: each needle must find exactly one code cell: {needles}"
    nb = cells_needed(nb, {0, 1, 2, *found})
    client = notebook_client_class()(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    with kernel_environment(fast=False, one_thread=True):
        client.execute()
    out = {}
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        errors = [o for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
        for n in needles:
            if n in c.source:
                out[n] = "".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
    return out


@pytest.mark.parametrize("lesson", [k for k, v in CASES.items() if v])
def test_single_run_numbers_in_the_text_are_what_the_cells_print(lesson):
    path = ROOT / "notebooks" / lesson
    cases = CASES[lesson]
    printed = _run(path, [n for n, _ in cases])
    missing = []
    for needle, expected in cases:
        for e in expected:
            if e not in printed[needle]:
                missing.append(f"{needle!r} printed no {e!r}:\n{printed[needle]}")
    assert not missing, "\n\n".join(missing)
