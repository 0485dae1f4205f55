"""The numbers lessons quote from single runs (seed 0, a cell's own settings: lesson 01's Dirac GAN tables, its
lab and saturated GAN; lesson 04's critics against the exact potential; lesson 05's labs and value surfaces;
lesson 06's draws of epsilon, lambda / n_critic sweep and side-by-side run), re-measured.

The 5-seed claims have their own tests (tests/test_lesson_0*_claims.py). The numbers here come from one cell
each; the test runs exactly those cells, with every earlier cell they need for a name
(``tests/nbtrim.cells_needed``), in a fresh kernel at full settings, and looks for each number the text
quotes, as the cell prints it, in what the cells printed (where the text rounds, "about 1e-03", the printed
value is checked, which implies it). Training on the CPU is reproducible bit for bit
with the same torch build (README, "What is reproducible"). If a number is not found, the lesson's text no
longer matches what its cells print: re-run the lesson, then update its text and this list together.

Budget (AMD-512, one torch thread): lesson 01's cells about 40 s, lesson 04's about 20 s, lesson 05's about
80 s, lesson 06's about 100 s (the sweep and the side-by-side run). Lesson 01's five-seed numbers are checked
in tests/test_presets.py, on the rows that file measures anyway.
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
    "01_gan_minimax.ipynb": [
        ("radii.append(path_summary(p)", [  # section 3: the circle shrinks like sqrt(eta), the last ratio larger
            "η 0.2 -> 0.1: radius 0.624 -> 0.445, ratio 0.71", "η 0.1 -> 0.05: radius 0.445 -> 0.316, ratio 0.71",
            "η 0.05 -> 0.025: radius 0.316 -> 0.233, ratio 0.74"]),
        ("print(f\"{'loss':>6} {'updates':>12}", [  # section 3: the three losses, two update orders
            "   gan simultaneous   1.41           2.76      3.23      3.23",
            " nsgan simultaneous   1.41          0.446     0.467     0.451",
            "  wgan simultaneous   1.41            205  2.96e+04  2.96e+04",
            "   gan  alternating   1.41           1.38      1.42      1.38",
            " nsgan  alternating   1.41          0.196     0.281       0.2",
            "  wgan  alternating   1.41           1.35      1.41      1.37"]),
        ("lab.run(scaled(lab.config.steps, fast=20))", [  # section 4: the lab's mode-collapse run, seed 0
            "after 1000 steps (", "): 1 of 8 modes, 100.0% high quality", "reverse KL 2.08 (one mode: 2.08)"]),
        ("sat = Trainer(get_preset(\"saturated-gan\", seed=1)", [  # section 5: the saturated GAN, seed 1
            "D's mean logit on the fakes -236,", "gradient norm 1.25e-17; 0 of 8 modes, 0.0% high quality"]),
    ],
    "04_duality_and_the_critic.ipynb": [
        ("quarters = [i for i", [  # section 4: the two critics against the exact W1
            "exact W1 = 1.2340", "final estimate 1.2462, +1.0%", "final estimate 0.00426 = K * W1 with K = 0.00345",
            "250: 0.00081, 500: 0.00291, 750: 0.00414, 1000: 0.00426", "(|w| >= 0.0095): 92%",
            "from 1.1891 to 1.2587"]),
        ("slope = np.polyfit(ref, f_clip", [  # section 5: the critics against the exact potential
            "correlation with the exact potential 0.9969; constant offset +0.3605; after removing it, rms difference "
            "0.0982 = 0.112 of the potential's spread",
            "correlation with the exact potential 0.9759", "= 0.224 of the potential's spread",
            "about 0.00387 x the potential (least-squares slope); K = estimate / W1 = 0.00345"]),
        ("pot_norms = np.linalg.norm(pot.grad(between)", [  # section 6: gradient norms
            "GP critic      data    : 5% / median / 95% of ||grad f|| = 0.934 / 1.021 / 1.047; share above 1: 63%",
            "GP critic      between : 5% / median / 95% of ||grad f|| = 0.944 / 1.013 / 1.068; share above 1: 63%",
            "clipped critic data    : 5% / median / 95% of ||grad f|| = 0.00084 / 0.00354 / 0.00486",
            "clipped critic between : 5% / median / 95% of ||grad f|| = 0.00084 / 0.00391 / 0.00486",
            "share within 1e-9 of 1: 100%", "GP critic 1.079, exact potential 1.0000, clipped critic 0.00486"]),
    ],
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
            "0.540; exact W1 0.596 (91% of it", "clipped / penalised estimate 1.4e-03",
            "clipped / penalised estimate 2.3e-03", "clipped / penalised estimate 1.9e-03"]),
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
            "    0.1        1 |              1.935    0.148   0.681    0.455     7   0.9",
            "|    71.50      0.32       6283", "|     2.23      0.34      1.259", "|    -0.04     -9.98    0.05211"]),
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
