import math

import pytest
import torch
from torch.testing import assert_close

from wgan_lessons import data, metrics
from wgan_lessons.metrics import HQ_PERFECT


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_exact_samples_cover_every_mode_with_chi2_mass(name):
    d = data.get_toy(name)
    x = d.sample(40000, generator=torch.Generator().manual_seed(0))
    cov = metrics.mode_coverage(x, d.centers, d.std)
    assert cov["modes"] == len(d.centers)
    assert HQ_PERFECT == pytest.approx(0.98889, abs=1e-5)
    # binomial std at n = 40000 is 0.0005: 0.003 is 6 of them
    assert cov["hq_fraction"] == pytest.approx(HQ_PERFECT, abs=0.003)
    assert cov["reverse_kl"] < 0.01


def test_collapsed_sampler_gives_one_mode():
    d = data.ring8()
    x = d.centers[3] + d.std * torch.randn(2500, 2, generator=torch.Generator().manual_seed(0))
    cov = metrics.mode_coverage(x, d.centers, d.std)
    assert cov["modes"] == 1
    assert cov["reverse_kl"] == pytest.approx(math.log(8))
    assert cov["counts"][3] == sum(cov["counts"])


def test_reverse_kl_hand_value_and_hq_rule():
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    # 3 HQ samples at mode 0, 1 HQ at mode 1, 1 sample far away (not HQ)
    x = torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.2], [10.0, 0.29], [5.0, 0.0]])
    cov = metrics.mode_coverage(x, centers, std=0.1)  # HQ radius 0.3
    assert cov["modes"] == 2
    assert cov["hq_fraction"] == pytest.approx(4 / 5)
    q = torch.tensor([0.75, 0.25])
    assert cov["reverse_kl"] == pytest.approx(float((q * torch.log(2 * q)).sum()))


def test_no_hq_sample_gives_infinite_reverse_kl():
    cov = metrics.mode_coverage(torch.full((10, 2), 50.0), data.ring8().centers, data.ring8().std)
    assert cov["modes"] == 0 and cov["hq_fraction"] == 0 and cov["reverse_kl"] == math.inf


def test_nan_samples_are_reported():
    x = torch.zeros(5, 2)
    x[2, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        metrics.mode_coverage(x, data.ring8().centers, 0.1)


def test_exact_w1_translation_and_not_w2_squared():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=g, dtype=torch.float64)
    shift = torch.tensor([0.3, 0.4], dtype=torch.float64)  # length 0.5
    assert metrics.exact_w1(x, x + shift) == pytest.approx(0.5, abs=1e-9)
    # POT's default squared-Euclidean cost would give 0.25 here
    two = torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]])
    assert metrics.exact_w1(*two) == pytest.approx(5.0)


def test_evaluate_samples_keys():
    d = data.ring8()
    out = metrics.evaluate_samples(d.sample(500, generator=torch.Generator().manual_seed(1)), d,
                                   generator=torch.Generator().manual_seed(2))
    assert {"modes", "hq_fraction", "reverse_kl", "w1"} <= set(out)
    assert out["modes"] == 8 and 0 < out["w1"] < 0.3  # finite-sample W1 of two 500-point draws is ~0.18


def test_w1_floor_is_zero_for_a_point_mass_and_shrinks_with_n():
    import torch

    from wgan_lessons.data import ring8
    from wgan_lessons.metrics import w1_floor

    class PointMass:
        def sample(self, n, generator=None):
            return torch.zeros(n, 2)

    assert w1_floor(PointMass(), 50)["mean"] == 0.0
    state = torch.get_rng_state()
    small, large = w1_floor(ring8(), 200, repeats=3), w1_floor(ring8(), 800, repeats=3)
    assert torch.equal(state, torch.get_rng_state())  # the global stream is not touched
    assert 0.08 < small["mean"] < 0.3 and large["mean"] < small["mean"], (small, large)
    with pytest.raises(ValueError, match="n"):
        w1_floor(ring8(), 1)


def test_occupancy_plot_labels_modes_by_angle_and_has_a_colour_bar():
    from wgan_lessons.data import ring8
    from wgan_lessons.plots import new_figure, plot_mode_occupancy

    fig, axes = new_figure()
    ax = axes[0, 0]
    im = plot_mode_occupancy(ax, [10, 20, 30], [[5] + [0] * 7, [0, 5] + [0] * 6, [0, 0, 5] + [0] * 5],
                             centers=ring8().centers)
    labels = [t.get_text() for t in ax.get_yticklabels()]  # rows follow the ring: 0°, 45°, 90°, ...
    assert labels == ["0: 0°", "4: 45°", "2: 90°", "6: 135°", "1: 180°", "7: 225°", "3: 270°", "5: 315°"], labels
    assert len(fig.axes) == 2  # the image and its colour bar
    # the second measurement put everything on mode 1 (180°), drawn in row 4
    assert_close(torch.tensor(im.get_array()[:, 1]), torch.tensor([0.0] * 4 + [1.0] + [0.0] * 3, dtype=torch.float64))
