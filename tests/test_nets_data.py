import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.testing import assert_close

from wgan_lessons import data, nets


def test_ring8_geometry():
    d = data.ring8()
    assert d.centers.shape == (8, 2)
    assert_close(d.centers.norm(dim=1), torch.full((8,), 2 / 1.414))
    assert d.std == pytest.approx(0.02 / 1.414)
    angles = torch.atan2(d.centers[:, 1], d.centers[:, 0])
    gaps = torch.diff(torch.sort(angles).values)
    assert_close(gaps, torch.full((7,), math.pi / 4))


def test_grid25_geometry():
    d = data.grid25()
    assert d.centers.shape == (25, 2)
    assert_close(torch.unique(d.centers[:, 0]), torch.tensor([-4.0, -2, 0, 2, 4]) / 2.828)
    assert d.std == pytest.approx(0.05 / 2.828)


def test_mixture_sampling_statistics_and_seed():
    d = data.ring8()
    x = d.sample(20000, generator=torch.Generator().manual_seed(0))
    assert x.shape == (20000, 2)
    nearest = torch.cdist(x, d.centers).argmin(1)
    frac = torch.bincount(nearest, minlength=8).float() / 20000
    assert_close(frac, torch.full((8,), 1 / 8), atol=0.01, rtol=0)
    resid = x - d.centers[nearest]
    assert_close(resid.std(0), torch.full((2,), d.std), rtol=0.03, atol=0)
    y = d.sample(20000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, y)


def test_swissroll_is_sklearns():
    from sklearn.datasets import make_swiss_roll

    g = torch.Generator().manual_seed(5)
    x = data.swissroll().sample(300, generator=g)
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=torch.Generator().manual_seed(5)).item())
    ref, _ = make_swiss_roll(300, noise=0.25, random_state=seed)
    assert_close(x, torch.tensor(ref[:, [0, 2]] / 7.5, dtype=torch.float32))


def test_unknown_toy_and_bad_n():
    with pytest.raises(ValueError, match="ring9"):
        data.get_toy("ring9")
    with pytest.raises(ValueError, match=r"n \(a number of samples\) must be an integer >= 1"):
        data.ring8().sample(0)


def test_mixture_1d_pdf_cdf_against_scipy():
    from scipy.stats import norm

    m = data.mixture_1d("skewed")
    xs = np.linspace(-4, 5, 50)
    ref_pdf = 0.7 * norm.pdf(xs, -1, 0.4) + 0.3 * norm.pdf(xs, 1.5, 1.0)
    ref_cdf = 0.7 * norm.cdf(xs, -1, 0.4) + 0.3 * norm.cdf(xs, 1.5, 1.0)
    assert_close(torch.tensor(m.pdf(xs)), torch.tensor(ref_pdf))
    assert_close(torch.tensor(m.cdf(xs)), torch.tensor(ref_cdf))
    s = m.shifted(shift=2.0, scale=3.0)
    assert_close(torch.tensor(s.cdf(3 * xs + 2)), torch.tensor(ref_cdf))
    x = m.sample(50000, generator=torch.Generator().manual_seed(0))
    assert_close(x.mean(), torch.tensor(0.7 * -1 + 0.3 * 1.5), atol=0.02, rtol=0)


def test_parallel_lines():
    x = data.parallel_lines(0.7, 1000, torch.Generator().manual_seed(0))
    assert x.shape == (1000, 2)
    assert (x[:, 0] == 0.7).all()
    assert x[:, 1].min() >= 0 and x[:, 1].max() <= 1


def test_digits_offline_and_no_silent_fallback(tmp_path):
    x = data.load_images("digits")
    assert x.shape == (1797, 1, 8, 8)
    assert x.min() >= -1 and x.max() <= 1
    with pytest.raises(FileNotFoundError, match="image_root.*download=True.*digits"):
        data.load_images("mnist", root=str(tmp_path), download=False)
    with pytest.raises(ValueError, match="cifar"):
        data.load_images("cifar")


def test_mlp_shapes_and_reference_size():
    g = nets.mlp_generator()
    assert sum(isinstance(m, nn.Linear) for m in g.modules()) == 4
    assert [m.out_features for m in g.modules() if isinstance(m, nn.Linear)] == [512, 512, 512, 2]
    c = nets.mlp_critic(width=64, layer_norm=True)
    assert c(torch.zeros(7, 2)).shape == (7,)


@pytest.mark.parametrize("size", [8, 28, 32])
def test_conv_nets_shapes(size):
    g = nets.ConvGenerator(z_dim=8, img_size=size, base=8)
    c = nets.ConvCritic(img_size=size, base=8)
    x = g(torch.randn(3, 8))
    assert x.shape == (3, 1, size, size)
    assert x.abs().max() <= 1
    assert c(x).shape == (3,)


@pytest.mark.parametrize("critic", [nets.mlp_critic(width=8, layer_norm=True), nets.ConvCritic(8, base=4)])
def test_no_critic_uses_batchnorm_or_sigmoid(critic):
    mods = list(critic.modules())
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in mods)
    assert not any(isinstance(m, nn.Sigmoid) for m in mods)


def test_bad_net_args():
    with pytest.raises(ValueError, match="img_size"):
        nets.ConvCritic(img_size=10)
    with pytest.raises(ValueError, match="activation"):
        nets.mlp_critic(activation="swish")
