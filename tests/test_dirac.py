import numpy as np
import pytest
import torch
from torch.testing import assert_close

from wgan_lessons.dirac import dirac_gan_field, dirac_gan_trajectory


def sig(x):
    return 1 / (1 + np.exp(-x))


def test_field_matches_the_closed_form():
    th, ps = np.meshgrid(np.linspace(-2, 2, 7), np.linspace(-2, 2, 7))
    vt, vp = dirac_gan_field(th, ps, "nsgan")
    # -dL_G/dtheta = psi * sigmoid(-psi theta);  -dL_D/dpsi = -theta * sigmoid(psi theta)
    assert_close(torch.tensor(vt), torch.tensor(ps * sig(-ps * th)))
    assert_close(torch.tensor(vp), torch.tensor(-th * sig(ps * th)))
    vt_sat, _ = dirac_gan_field(th, ps, "gan")
    # saturating: dL_G/dtheta = -psi * sigmoid(psi theta)  ->  -dL_G/dtheta = psi * sigmoid(psi theta)
    assert_close(torch.tensor(vt_sat), torch.tensor(ps * sig(ps * th)))


def test_equilibrium_is_a_fixed_point():
    vt, vp = dirac_gan_field(0.0, 0.0)
    assert vt == 0 and vp == 0


@pytest.mark.parametrize("loss", ["gan", "nsgan", "wgan"])
def test_simultaneous_gradient_descent_does_not_converge(loss):
    path = dirac_gan_trajectory(1.0, 1.0, lr=0.1, steps=2000, loss=loss)
    r = np.hypot(path[:, 0], path[:, 1])
    # it never settles at (0, 0): the last 500 steps stay away from the equilibrium ...
    assert r[-500:].min() > 0.3
    # ... while circling around it many times
    angles = np.unwrap(np.arctan2(path[:, 1], path[:, 0]))
    assert abs(angles[-1] - angles[0]) > 10 * np.pi


def test_saturating_and_wgan_spiral_outwards():
    for loss in ("gan", "wgan"):
        r = np.hypot(*dirac_gan_trajectory(1.0, 1.0, lr=0.1, steps=300, loss=loss).T)
        assert r[-1] > r[0]


def test_bad_loss_name():
    with pytest.raises(ValueError, match="loss"):
        dirac_gan_field(0.0, 0.0, "hinge")


def test_nonsaturating_circle_shrinks_with_the_step_size():
    """The limit circle of the non-saturating loss is an effect of the finite step."""
    radii = []
    for lr in (0.2, 0.1, 0.05):
        path = dirac_gan_trajectory(1.0, 1.0, lr=lr, steps=int(400 / lr), loss="nsgan")
        radii.append(np.hypot(path[-200:, 0], path[-200:, 1]).mean())
    assert radii[0] > radii[1] > radii[2] > 0.1


def test_r1_regularised_dirac_gan_converges():
    for loss in ("nsgan", "gan"):
        path = dirac_gan_trajectory(1.0, 1.0, lr=0.1, steps=2000, loss=loss, gamma=1.0)
        assert np.hypot(*path[-1]) < 1e-3
    vt, vp = dirac_gan_field(np.array([0.5]), np.array([1.0]), "nsgan", gamma=2.0)
    vt0, vp0 = dirac_gan_field(np.array([0.5]), np.array([1.0]), "nsgan")
    assert_close(torch.tensor(vp - vp0), torch.tensor([-2.0 * 1.0], dtype=torch.float64))  # -gamma psi
    assert_close(torch.tensor(vt), torch.tensor(vt0))


# ---- the numbers lesson 01 quotes (section 4), re-measured with the lesson's own calls
from wgan_lessons.dirac import path_summary  # noqa: E402


def test_path_summary_on_a_hand_made_circle():
    t = np.linspace(0, 4 * np.pi, 401)  # two turns on the circle of radius 2
    s = path_summary(np.stack([2 * np.cos(t), 2 * np.sin(t)], axis=1))
    assert_close(torch.tensor([s["start"], s["late_min"], s["late_max"], s["end"], s["turns"]], dtype=torch.float64),
                 torch.tensor([2.0, 2.0, 2.0, 2.0, 2.0], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        path_summary(np.zeros((5, 3)))


def test_lesson01_circle_radius_goes_like_sqrt_of_the_step():
    """Lesson 01: same time budget (lr x steps = 400); each halving of lr shrinks the final radius by ~1/sqrt(2)."""
    lrs = [0.2, 0.1, 0.05, 0.025]
    radii = [path_summary(dirac_gan_trajectory(1.0, 1.0, lr=lr, steps=int(400 / lr), loss="nsgan"))["end"] for lr in lrs]
    assert_close(torch.tensor(radii[:3]), torch.tensor([0.624, 0.445, 0.316]), atol=0.01, rtol=0)
    ratios = [b / a for a, b in zip(radii, radii[1:])]
    assert all(0.68 < r < 0.76 for r in ratios), ratios


def test_lesson01_three_losses_two_update_orders():
    """Lesson 01's table: simultaneous gan spirals out (~3.2), nsgan circles (~0.45), wgan explodes
    (x sqrt(1 + lr^2) per step); alternating: gan and wgan circle near 1.4, nsgan circles near 0.2."""
    def summary(loss, alternating):
        return path_summary(dirac_gan_trajectory(1.0, 1.0, lr=0.1, steps=2000, loss=loss, alternating=alternating))

    assert 3.0 < summary("gan", False)["end"] < 3.5
    s = summary("nsgan", False)
    assert 0.42 < s["late_min"] <= s["late_max"] < 0.48
    assert_close(torch.tensor(summary("wgan", False)["end"]), torch.tensor(2 ** 0.5 * 1.01 ** 1000), rtol=1e-6, atol=0)
    for loss in ("gan", "wgan"):
        s = summary(loss, True)
        assert 1.3 < s["late_min"] <= s["late_max"] < 1.45, (loss, s)
    s = summary("nsgan", True)
    assert 0.15 < s["late_min"] <= s["late_max"] < 0.3, s


def test_lesson01_r1_converges_for_every_loss():
    for loss in ("gan", "nsgan", "wgan"):
        s = path_summary(dirac_gan_trajectory(1.0, 1.0, lr=0.1, steps=2000, loss=loss, gamma=0.3))
        assert s["end"] < 1e-8, (loss, s)


def test_plot_dirac_path_says_when_the_path_leaves_the_view():
    from wgan_lessons.plots import new_figure, plot_dirac_path

    fig, axes = new_figure(2)
    field = dirac_gan_field(*np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-2, 2, 5)))
    th, ps = np.meshgrid(np.linspace(-2, 2, 5), np.linspace(-2, 2, 5))
    plot_dirac_path(axes[0, 0], dirac_gan_trajectory(1, 1, lr=0.1, steps=50), (th, ps, *field), title="ok", lim=2)
    assert axes[0, 0].get_title() == "ok"
    plot_dirac_path(axes[0, 1], dirac_gan_trajectory(1, 1, lr=0.1, steps=300, loss="wgan"), title="wgan", lim=2)
    assert "leaves the view" in axes[0, 1].get_title()


def test_lesson01_alternating_nonsaturating_creeps_in():
    """Lesson 01: with alternating updates the non-saturating path does converge, slowly (about 0.2 after
    2000 steps, 0.06 after 20 000: like one over the square root of the number of steps)."""
    path = dirac_gan_trajectory(1.0, 1.0, lr=0.1, steps=20_000, loss="nsgan", alternating=True)
    r = np.hypot(path[:, 0], path[:, 1])
    assert 0.15 < r[2000] < 0.25 and 0.05 < r[-1] < 0.075, (r[2000], r[-1])
    assert 2.5 < r[2000] / r[-1] < 4.0  # sqrt(10) = 3.2 for a t^(-1/2) law
