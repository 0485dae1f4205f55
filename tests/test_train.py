import json
import warnings

import pytest
import torch
from torch.testing import assert_close

from wgan_lessons.train import METHODS, DivergenceWarning, TrainConfig, Trainer, train

TINY = dict(steps=4, batch_size=16, g_width=16, d_width=16, g_depth=2, d_depth=2, log_every=1, device="cpu")


@pytest.mark.parametrize("method", METHODS)
def test_smoke_every_method(method):
    t = train(TrainConfig(method=method, **TINY), progress=False)
    assert t.step == 4
    assert len(t.history["step"]) == 4
    assert all(torch.isfinite(torch.tensor(t.history["loss_d"])))
    x = t.sample(50)
    assert x.shape == (50, 2)


def test_smoke_images():
    t = train(TrainConfig(method="wgan-gp", data="digits", steps=2, batch_size=8, conv_base=4, log_every=1,
                          device="cpu"), progress=False)
    assert t.sample(6).shape == (6, 1, 8, 8)
    assert t.config.lambda_gp == 10.0 and t.config.z_dim == 32


def test_paper_defaults():
    w = TrainConfig(method="wgan").resolved()
    assert (w.optimizer, w.lr_d, w.clip_value, w.n_critic) == ("rmsprop", 5e-5, 0.01, 5)
    gp = TrainConfig(method="wgan-gp", data="ring8").resolved()
    assert (gp.optimizer, gp.lr_d, gp.betas, gp.n_critic, gp.lambda_gp) == ("adam", 1e-4, (0.5, 0.9), 5, 0.1)
    assert TrainConfig(method="wgan-gp", data="mnist").resolved().lambda_gp == 10.0
    assert TrainConfig(method="wgan-gp", lambda_gp=2.0).resolved().lambda_gp == 2.0


def test_same_seed_same_history():
    h1 = train(TrainConfig(method="wgan-gp", seed=3, **TINY), progress=False).history
    h2 = train(TrainConfig(method="wgan-gp", seed=3, **TINY), progress=False).history
    h3 = train(TrainConfig(method="wgan-gp", seed=4, **TINY), progress=False).history
    for k in ("loss_d", "loss_g", "w_estimate", "grad_norm"):
        assert_close(torch.tensor(h1[k]), torch.tensor(h2[k]))
    assert h1["loss_d"] != h3["loss_d"]


def test_chunks_equal_one_run():
    a = Trainer(TrainConfig(method="wgan", seed=1, **TINY), progress=False)
    a.run(2)
    a.run(2)
    b = train(TrainConfig(method="wgan", seed=1, **TINY), progress=False)
    assert_close(torch.tensor(a.history["loss_d"]), torch.tensor(b.history["loss_d"]))
    assert a.done


def test_wgan_weights_in_box_after_training():
    t = train(TrainConfig(method="wgan", clip_value=0.02, lr_d=0.1, **TINY), progress=False)
    for p in t.critic.parameters():
        assert p.abs().max() <= 0.02 + 1e-7
    # with a big learning rate some weight sits at the box edge: clipping really happened after the step
    assert max(p.abs().max().item() for p in t.critic.parameters()) == pytest.approx(0.02)


def test_clipping_happens_after_the_optimizer_step(monkeypatch):
    from wgan_lessons import losses

    order = []
    t = Trainer(TrainConfig(method="wgan", **TINY), progress=False)
    real_step = t.opt_d.step
    monkeypatch.setattr(t.opt_d, "step", lambda *a, **k: (order.append("step"), real_step(*a, **k))[1])
    real_clip = losses.clip_weights_
    monkeypatch.setattr(losses, "clip_weights_", lambda *a: (order.append("clip"), real_clip(*a))[1])
    t.run(1)
    assert order == ["step", "clip"] * t.config.n_critic


def test_w_estimate_is_minus_critic_loss():
    t = train(TrainConfig(method="wgan", **TINY), progress=False)
    h = t.history
    assert_close(torch.tensor(h["w_estimate"]), -torch.tensor(h["loss_d"]))  # no penalty for wgan


def test_fresh_real_batch_every_critic_step(monkeypatch):
    t = Trainer(TrainConfig(method="wgan-gp", **TINY), progress=False)
    seen = []
    orig = t._critic_step
    monkeypatch.setattr(t, "_critic_step", lambda real, fake: (seen.append((real, fake)), orig(real, fake))[1])
    t.run(1)
    assert len(seen) == t.config.n_critic
    reals = [r for r, _ in seen]
    fakes = [f for _, f in seen]
    assert all(r.shape == (t.config.batch_size, 2) for r in reals)
    assert not torch.equal(reals[0], reals[1]) and not torch.equal(fakes[0], fakes[1])


def test_nan_stops_with_clear_message_and_keeps_last_finite_state():
    t = Trainer(TrainConfig(method="wgan-gp", **TINY), progress=False)
    t.run(2)
    good = {k: v.clone() for k, v in t.generator.state_dict().items()}
    with torch.no_grad():
        for p in t.critic.parameters():
            p.fill_(float("nan"))
    with pytest.warns(DivergenceWarning, match="restored to step 2"):
        t.run(2)
    assert t.stop_reason and "nan" in t.stop_reason
    for k, v in t.generator.state_dict().items():
        assert_close(v, good[k])
    assert all(torch.isfinite(p).all() for p in t.critic.parameters())
    assert len(t.history["step"]) == 2  # the history is kept


def test_callback_can_stop_and_request_stop():
    t = Trainer(TrainConfig(method="nsgan", **TINY), progress=False)
    t.run(callback=lambda tr: tr.step < 2)
    assert t.step == 2


@pytest.mark.parametrize("field,value", [
    ("lambda_gp", -1.0), ("method", "lsgan"), ("n_critic", 0), ("data", "cifar"), ("batch_size", 0),
    ("lr_g", 0.0), ("optimizer", "sgd"), ("clip_value", -0.1), ("betas", (0.5, 1.5)), ("device", "tpu"),
])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value}).resolved()


def test_checkpoint_round_trip(tmp_path):
    t = Trainer(TrainConfig(method="wgan-gp", **TINY), progress=False)
    t.run(2)
    path = t.save(tmp_path / "ck.pt")
    torch.load(path, weights_only=True)  # safe loading works
    u = Trainer.load(path, progress=False)
    assert u.step == 2 and u.history == t.history
    for a, b in zip(t.generator.parameters(), u.generator.parameters()):
        assert_close(a, b)
    t.run(2)
    u.run(2)
    assert_close(torch.tensor(t.history["loss_d"]), torch.tensor(u.history["loss_d"]))


def test_config_dict_round_trip():
    cfg = TrainConfig(method="wgan", betas=(0.1, 0.2)).resolved()
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


def test_update_hparams_live():
    t = Trainer(TrainConfig(method="wgan-gp", **TINY), progress=False)
    t.run(1)
    t.update_hparams(lr_d=3e-3, n_critic=2, lambda_gp=1.0)
    assert t.opt_d.param_groups[0]["lr"] == 3e-3 and t.config.n_critic == 2
    t.run(1)
    with pytest.raises(ValueError, match="method"):
        t.update_hparams(method="gan")
    with pytest.raises(ValueError, match="n_critic"):
        t.update_hparams(n_critic=0)


def test_history_records_the_generators_gradient_norm_of_the_last_step():
    import torch

    from wgan_lessons.train import Trainer, TrainConfig

    tr = Trainer(TrainConfig(method="nsgan", data="ring8", steps=3, log_every=1, batch_size=32, g_width=16,
                             d_width=16, device="cpu", precision="fp32"), progress=False)
    tr.run()
    want = torch.cat([p.grad.flatten() for p in tr.generator.parameters()]).norm()
    torch.testing.assert_close(torch.tensor(tr.history["g_grad_norm"][-1]), want)
    assert len(tr.history["g_grad_norm"]) == 3 and all(v > 0 for v in tr.history["g_grad_norm"])


def test_optimisers_are_built_on_first_use_and_change_no_number():
    """Building an optimiser imports torch._dynamo (a second or more): a Trainer builds them when
    training, saving or loading first needs them, which gives the same weights as building them at once."""
    cfg = TrainConfig(method="wgan-gp", data="ring8", steps=6, batch_size=32, g_width=16, d_width=16, device="cpu")
    lazy = Trainer(cfg, progress=False)
    assert lazy._opt_g is None and lazy._opt_d is None
    lazy.sample(10), lazy.critic_scores(torch.zeros(3, 2))  # looking builds nothing
    assert lazy._opt_g is None
    eager = Trainer(cfg, progress=False)
    eager.opt_g, eager.opt_d  # built before training
    lazy.run(), eager.run()
    for a, b in zip(lazy.generator.parameters(), eager.generator.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_checkpoint_before_any_step_round_trips(tmp_path):
    cfg = TrainConfig(method="wgan", data="ring8", steps=4, batch_size=32, g_width=16, d_width=16, device="cpu")
    t = Trainer(cfg, progress=False)
    back = Trainer.load(t.save(tmp_path / "c.pt"), progress=False)
    back.run(), t.run()
    for a, b in zip(back.critic.parameters(), t.critic.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
