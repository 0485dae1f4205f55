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
