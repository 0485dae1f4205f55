"""wgan_lessons.clipping (lesson 05's engine) and the plot helpers it appended to wgan_lessons.plots.

The per-layer gradient norms are checked against back-propagation written out by hand in float64 numpy
(an independent reference: dL/dz_K from the loss, then dL/dz_k = (dL/dz_{k+1} W_{k+1}) * 1[z_k > 0] and
dL/dW_k = dL/dz_k^T h_{k-1}), and against the closed form of the output layer's norm, sqrt(1/n + 1/m).
"""

import math
import random

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.testing import assert_close  # noqa: E402

from wgan_lessons import clipping  # noqa: E402
from wgan_lessons.clipping import (NoisyData, critic_weights, deep_critic_config, layer_gradient_norms,  # noqa: E402
                                   spread, track_run)
from wgan_lessons.data import get_toy  # noqa: E402
from wgan_lessons.nets import mlp_critic  # noqa: E402
from wgan_lessons.plots import plot_layer_norms, plot_tracking, plot_weight_histogram  # noqa: E402


def _global_state():
    return random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state()


def _same_state(a, b):
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and torch.equal(a[2], b[2])


# ----------------------------------------------------------------------------- NoisyData


class _Zeros:
    name = "zeros"

    def sample(self, n, generator=None):
        return torch.zeros(n, 2)


def test_noisy_data_adds_std_times_unit_gaussian_noise():
    x = NoisyData(_Zeros(), std=0.5).sample(200_000, generator=torch.Generator().manual_seed(0))
    assert x.shape == (200_000, 2) and x.dtype == torch.float32
    assert_close(x.mean(0).double(), torch.zeros(2, dtype=torch.float64), atol=5e-3, rtol=0)
    assert_close(x.std(0).double(), torch.full((2,), 0.5, dtype=torch.float64), atol=5e-3, rtol=0)


def test_noisy_data_is_the_base_sample_plus_noise_drawn_after_it():
    base = get_toy("ring8")
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    noisy = NoisyData(base, std=1.0).sample(64, generator=g1)
    x = base.sample(64, generator=g2).float()
    noise = torch.randn(64, 2, generator=g2)
    assert_close(noisy, x + noise)
    before = _global_state()
    NoisyData(base).sample(10, generator=torch.Generator().manual_seed(0))
    assert _same_state(before, _global_state())


def test_noisy_data_rejects_bad_input():
    with pytest.raises(ValueError, match="std"):
        NoisyData(_Zeros(), std=-1.0)
    with pytest.raises(ValueError, match="sample"):
        NoisyData(np.zeros(3))


# ----------------------------------------------------------------------------- per-layer gradient norms


def _numpy_backprop(critic, real, fake):
    """dL/dz_k and dL/dW_k for L = mean f(fake) - mean f(real), by hand (float64)."""
    lin = [m for m in critic.modules() if isinstance(m, nn.Linear)]
    Ws = [m.weight.detach().double().numpy() for m in lin]
    bs = [m.bias.detach().double().numpy() for m in lin]
    x = np.concatenate([real, fake]).astype(np.float64)
    n, m = len(real), len(fake)
    hs, zs = [x], []
    for k, (W, b) in enumerate(zip(Ws, bs)):
        z = hs[-1] @ W.T + b
        zs.append(z)
        hs.append(np.maximum(z, 0) if k < len(Ws) - 1 else z)
    dz = np.zeros_like(zs[-1])
    dz[:n, 0], dz[n:, 0] = -1.0 / n, 1.0 / m
    d_act, d_w = [None] * len(Ws), [None] * len(Ws)
    for k in range(len(Ws) - 1, -1, -1):
        d_act[k] = dz
        d_w[k] = dz.T @ hs[k]
        if k:
            dz = (dz @ Ws[k]) * (zs[k - 1] > 0)
    return np.array([np.linalg.norm(a) for a in d_act]), np.array([np.linalg.norm(w) for w in d_w])


@pytest.mark.parametrize("depth,n,m", [(1, 5, 7), (3, 16, 16), (6, 9, 4)])
def test_layer_gradient_norms_match_backprop_by_hand(depth, n, m):
    g = torch.Generator().manual_seed(depth)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(depth)
        critic = mlp_critic(2, 12, depth)
    real, fake = torch.randn(n, 2, generator=g), torch.randn(m, 2, generator=g) + 1
    got = layer_gradient_norms(critic, real, fake)
    act, w = _numpy_backprop(critic, real.numpy(), fake.numpy())
    assert got["layers"] == depth + 1
    assert_close(torch.tensor(got["activation"]), torch.tensor(act), rtol=1e-5, atol=1e-9)
    assert_close(torch.tensor(got["weight"]), torch.tensor(w), rtol=1e-5, atol=1e-9)
    # the output layer: dL/ds = -1/n on real rows, +1/m on fake rows, so its norm is sqrt(1/n + 1/m)
    assert math.isclose(got["activation"][-1], math.sqrt(1 / n + 1 / m), rel_tol=1e-6)


def test_layer_gradient_norms_leave_the_critic_as_it_was():
    critic = mlp_critic(2, 8, 2)
    critic.eval()
    before = [p.detach().clone() for p in critic.parameters()]
    layer_gradient_norms(critic, torch.randn(4, 2), torch.randn(4, 2))
    assert all(p.grad is None for p in critic.parameters()) and not critic.training
    assert all(torch.equal(a, b) for a, b in zip(before, critic.parameters()))
    assert not critic.net.net[0]._forward_hooks  # the hooks are removed


def test_layer_gradient_norms_reject_bad_critics_and_batches():
    bn = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1), nn.Flatten(0))
    with pytest.raises(ValueError, match="batch norm"):
        layer_gradient_norms(bn, torch.randn(4, 2), torch.randn(4, 2))
    with pytest.raises(ValueError, match="no nn.Linear"):
        layer_gradient_norms(_NoLinear(), torch.randn(4, 2), torch.randn(4, 2))
    with pytest.raises(ValueError, match="batches"):
        layer_gradient_norms(mlp_critic(2, 4, 1), torch.randn(4, 2), torch.randn(4, 3))


class _NoLinear(nn.Module):
    def forward(self, x):
        return x.sum(1)


def test_spread():
    assert spread([2.0, 1.0, 8.0]) == 8.0
    assert spread([3.0]) == 1.0
    assert spread([0.0, 1e-3]) == math.inf
    for bad in ([], [1.0, -1.0], [np.nan, 1.0], [0.0, 0.0]):
        with pytest.raises(ValueError):
            spread(bad)


def test_critic_weights_are_every_parameter():
    critic = mlp_critic(2, 8, 3)
    w = critic_weights(critic)
    assert w.shape == (sum(p.numel() for p in critic.parameters()),) and w.dtype == np.float64
    assert np.array_equal(w[:16], critic.net.net[0].weight.detach().double().numpy().ravel())


# ----------------------------------------------------------------------------- the experiments, tiny


def test_track_run_measures_w1_and_the_estimate_of_each_window():
    before = _global_state()
    run = track_run("wgan-clipping", seed=1, steps=12, every=4, n_eval=40, warmup=(2, 7), log_every=2)
    assert _same_state(before, _global_state())
    assert run["step"] == [4, 8, 12] and len(run["w1"]) == len(run["estimate"]) == 3
    h = run["history"]
    loss = dict(zip(h["step"], h["loss_d"]))
    for end, est in zip(run["step"], run["estimate"]):  # -L_D averaged over the rows recorded in the window
        assert math.isclose(est, -np.mean([loss[s] for s in range(end - 2, end + 1, 2) if s > end - 4]), rel_tol=1e-12)
    assert 0 <= run["walls"] <= 1 and run["clip_value"] == 0.01 and np.isfinite(run["spearman"])
    assert np.abs(run["weights"]).max() <= 0.01 + 1e-9
    again = track_run("wgan-clipping", seed=1, steps=12, every=4, n_eval=40, warmup=(2, 7), log_every=2)
    assert again["w1"] == run["w1"] and again["estimate"] == run["estimate"]
    longer = track_run("wgan-clipping", seed=1, steps=20, every=4, n_eval=40, log_every=2)  # 5 measurements
    from scipy.stats import spearmanr
    w1, est, step = (np.asarray(longer[k], dtype=float) for k in ("w1", "estimate", "step"))
    assert longer["spearman_clock"] == pytest.approx(spearmanr(-step, w1)[0], abs=1e-12)
    assert longer["spearman_changes"] == pytest.approx(spearmanr(np.diff(est), np.diff(w1))[0], abs=1e-12)
    gan = track_run("mode-collapse", seed=1, steps=4, every=2, n_eval=40)
    assert math.isnan(gan["walls"]) and math.isnan(gan["walls_start"]) and gan["clip_value"] is None
    assert len(gan["w1"]) == 2
    with pytest.raises(ValueError, match="start_inside"):
        track_run("mode-collapse", seed=1, steps=2, every=2, n_eval=40, start_inside=0.5)


def test_track_run_walls_at_the_start_and_a_critic_started_inside_its_box():
    """walls_start: the initial parameters clamped into [-c, c] (PyTorch's default init is larger than c = 0.01,
    so most land at the walls); start_inside scales every initial tensor to at most s * c: none at the walls."""
    from wgan_lessons.plots import weights_at_the_walls
    from wgan_lessons.presets import get_preset
    from wgan_lessons.train import Trainer

    run = track_run("wgan-clipping", seed=2, steps=2, every=2, n_eval=30, log_every=1)
    fresh = Trainer(get_preset("wgan-clipping", seed=2, device="cpu", g_width=64, d_width=64), progress=False)
    w0 = critic_weights(fresh.critic)
    assert run["walls_start"] == weights_at_the_walls(np.clip(w0, -0.01, 0.01), 0.01) > 0.5
    inside = track_run("wgan-clipping", seed=2, steps=2, every=2, n_eval=30, log_every=1, start_inside=0.5)
    assert inside["walls_start"] == 0.0 and inside["walls"] < run["walls"]


def test_track_run_warmup_is_the_authors_schedule():
    """The first k generator steps take n critic steps each, then the preset's n_critic again: the warm-up
    run differs from a plain one, and equals a run driven by hand with update_hparams."""
    from wgan_lessons.presets import get_preset
    from wgan_lessons.train import Trainer

    run = track_run("wgan-clipping", seed=0, steps=4, every=4, n_eval=30, warmup=(2, 6), log_every=1)
    tr = Trainer(get_preset("wgan-clipping", seed=0, device="cpu", steps=4, g_width=64, d_width=64, batch_size=64,
                            log_every=1), progress=False)
    tr.update_hparams(n_critic=6)
    tr.run(2)
    tr.update_hparams(n_critic=5)
    tr.run(2)
    assert run["history"]["loss_d"] == tr.history["loss_d"]
    plain = track_run("wgan-clipping", seed=0, steps=4, every=4, n_eval=30, log_every=1)
    assert plain["history"]["loss_d"] != run["history"]["loss_d"]


def test_deep_critic_run_tiny():
    out = clipping.deep_critic_run(seed=0, clip_values=(0.1,), steps=2)
    assert set(out["critics"]) == {"c = 0.1", "gradient penalty"}
    for label, row in out["critics"].items():
        assert row["activation"].shape == (12,) == row["weight"].shape
        assert row["spread"] == spread(row["activation"])
    assert 0 <= out["critics"]["c = 0.1"]["walls"] <= 1 and math.isnan(out["critics"]["gradient penalty"]["walls"])
    assert np.abs(out["critics"]["c = 0.1"]["weights"]).max() <= 0.1 + 1e-7
    cfg = deep_critic_config("clip", 0.001)
    assert cfg.learning_rate == pytest.approx(5e-6) and cfg.depth == 11 and cfg.width == 64


def test_deep_critic_run_clamped_is_the_untrained_network_in_the_box():
    """``clamped``: the untrained network with every parameter clamped into [-c, c]. A box wider than every
    initial parameter (c = 10) changes nothing, so its norms are the untrained network's exactly; a box of
    c = 0.01 puts almost every weight at a wall, and random signs then shrink the gradient by about
    c * sqrt(64 / 2) = 0.057 per layer (11 hidden layers: far more than the untrained network's spread)."""
    out = clipping.deep_critic_run(seed=0, clip_values=(10.0, 0.01), steps=1)
    assert set(out["clamped"]) == {"c = 10", "c = 0.01"}
    wide, box = out["clamped"]["c = 10"], out["clamped"]["c = 0.01"]
    assert_close(torch.from_numpy(wide["activation"]), torch.from_numpy(out["init"]["activation"]), rtol=0, atol=0)
    assert_close(torch.from_numpy(wide["weight"]), torch.from_numpy(out["init"]["weight"]), rtol=0, atol=0)
    assert box["spread"] == spread(box["activation"]) and box["weight_spread"] == spread(box["weight"])
    assert box["spread"] > 1e6 * out["init"]["spread"]
    assert box["activation"][0] < box["activation"][-1]  # smaller next to the input: it vanishes
    row = out["critics"]["c = 0.01"]  # one RMSProp step moves a parameter by at most ~10 lr = 10 * c / 200
    assert 0 < row["max_move"] <= 10 * 0.01 / 200 * 1.001 and 0 <= row["flipped"] <= 0.01
    s = clipping.claims_summary([], [out])
    assert s["clamped_spread"] == {"c = 10": [wide["spread"]], "c = 0.01": [box["spread"]]}


def test_value_surfaces_tiny():
    out = clipping.value_surfaces(datasets=("ring8",), steps=3)
    row = out["ring8"]
    assert row["clip"].config.method == "clip" and row["gp"].config.method == "gp"
    assert row["clip"].config.learning_rate == clipping.SURFACES["clip_lr"]
    assert row["real"].shape == row["fake"].shape == (clipping.SURFACES["eval_points"], 2)
    # the exact W1 between ring8 and ring8 + N(0, I): about 0.85 at 2000 points (0.82 at 4000: small-sample bias)
    assert 0.7 < row["w1"] < 1.0


def test_claims_summary_counts():
    def trow(p, s, rho, walls=float("nan")):
        return {"preset": p, "seed": s, "spearman": rho, "walls": walls, "walls_start": walls / 2}

    tracking = [trow("wgan-clipping", 1, 0.9, 0.8), trow("wgan-clipping", 0, 0.5, 0.7),
                trow("mode-collapse", 0, 0.6), trow("mode-collapse", 1, 0.1)]
    depth = [{"seed": 0, "critics": {"c = 0.1": {"spread": 20.0, "weight_spread": 3.0}},
              "init": {"spread": 5.0, "weight_spread": 2.0}}]
    s = clipping.claims_summary(tracking, depth)
    assert s["seeds"] == [0, 1] and s["spearman"]["wgan-clipping"] == [0.5, 0.9] and s["wins"] == 1
    assert s["walls"] == [0.7, 0.8] and s["walls_start"] == [0.35, 0.4]
    assert s["spread"] == {"c = 0.1": [20.0], "init": [5.0]}


# ----------------------------------------------------------------------------- the plot helpers


def test_plot_tracking_draws_w1_and_the_estimate_on_two_axes():
    fig, ax = plt.subplots()
    run = {"step": [10, 20, 30], "w1": [1.0, 0.8, 0.5], "estimate": [3e-4, 2e-4, 1e-4], "spearman": 1.0}
    a, b = plot_tracking(ax, run, title="wgan")
    assert list(a.get_ydata()) == run["w1"] and list(b.get_ydata()) == run["estimate"]
    assert b.axes is not ax and "Spearman 1.00" in ax.get_title()
    with pytest.raises(ValueError, match="3 steps"):
        plot_tracking(ax, {**run, "w1": [1.0]})
    plt.close(fig)


def test_plot_layer_norms_draws_zero_norms_at_the_floor():
    fig, ax = plt.subplots()
    lines = plot_layer_norms(ax, {"a": [1e-3, 1e-1, 1.0], "b": [0.0, 1e-5, 1.0]})
    assert len(lines) == 2 and ax.get_yscale() == "log"
    assert np.allclose(lines[1].get_ydata(), [1e-6, 1e-5, 1.0], rtol=1e-12, atol=0)
    assert "1 layers exactly 0" in lines[1].get_label()
    plt.close(fig)


def test_plot_weight_histogram_shares_and_walls():
    fig, ax = plt.subplots()
    w = np.array([-0.01, -0.01, 0.0, 0.01, 0.02])  # 0.02 is drawn at the wall
    counts = plot_weight_histogram(ax, w, clip_value=0.01, bins=4)
    assert counts.tolist() == [2, 0, 1, 2]
    assert "80% within 5% of ±c" in ax.get_legend().get_texts()[0].get_text()
    assert plot_weight_histogram(ax, np.array([1.0, 2.0, 3.0]), bins=2).sum() == 3
    with pytest.raises(ValueError, match="empty"):
        plot_weight_histogram(ax, [])
    plt.close(fig)


def test_plot_potential_names_its_two_samples():
    """Lesson 05's value surfaces draw the data against the data plus noise, not a generator's samples: the
    legend says what the two clouds are."""
    from wgan_lessons.plots import plot_potential

    fig, ax = plt.subplots()
    pts = np.zeros((3, 2))
    plot_potential(ax, lambda x: x[:, 0], pts, pts + 1, n=10, labels=("data", "data + N(0, I)"), colorbar=False)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["data", "data + N(0, I)"]
    ax2 = plt.figure().add_subplot()
    plot_potential(ax2, lambda x: x[:, 0], pts, pts + 1, n=10, colorbar=False)
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["real", "generated"]
    plt.close("all")
