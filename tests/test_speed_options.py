"""Issue 10's engine options: the linear learning-rate schedule, the generator's moving average,
bfloat16 autocast, and the one-pass batching of Algorithm 1 (same maths, fewer operations)."""

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.testing import assert_close

from wgan_lessons.train import TrainConfig, Trainer, autocast_dtype

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(method="wgan-gp", data="ring8", steps=10, batch_size=16, g_width=16, d_width=16, g_depth=2, d_depth=2,
            device="cpu", log_every=5)


def test_linear_schedule_is_lr_times_one_minus_t_over_steps():
    t = Trainer(TrainConfig(**TINY, lr_schedule="linear", lr_g=1e-3, lr_d=2e-3), progress=False)
    seen = []
    orig = t._iteration

    def spy():
        out = orig()
        seen.append((t.step, t.opt_g.param_groups[0]["lr"], t.opt_d.param_groups[0]["lr"]))
        return out

    t._iteration = spy
    t.run()
    for step, lr_g, lr_d in seen:  # set before the iteration of generator step `step`
        assert_close(lr_g, 1e-3 * (1 - step / 10))
        assert_close(lr_d, 2e-3 * (1 - step / 10))
    const = Trainer(TrainConfig(**TINY), progress=False)
    const.run(3)
    assert const.opt_g.param_groups[0]["lr"] == const.config.lr_g


def test_ema_follows_its_formula_and_does_not_change_training():
    plain = Trainer(TrainConfig(**TINY), progress=False)
    plain.run()
    t = Trainer(TrainConfig(**TINY, ema_decay=0.9, ema_start=3), progress=False)
    ema = copy.deepcopy(t.generator)
    orig = t._generator_step

    def spy():
        out = orig()
        with torch.no_grad():
            beta = 0.0 if t.step < 3 else 0.9
            for pe, p in zip(ema.parameters(), t.generator.parameters()):
                pe.copy_(beta * pe + (1 - beta) * p)
        return out

    t._generator_step = spy
    t.run()
    for a, b in zip(plain.generator.parameters(), t.generator.parameters()):
        assert torch.equal(a, b)  # the average is only looked at
    for pe, p in zip(ema.parameters(), t.generator_ema.parameters()):
        assert_close(p, pe)
    assert_close(t.sample(5), t.generator_ema(torch.randn(5, 2, generator=torch.Generator().manual_seed(t.config.seed + 2))))


def test_ema_round_trips_through_a_checkpoint(tmp_path):
    t = Trainer(TrainConfig(**TINY, ema_decay=0.99), progress=False)
    t.run(4)
    t.save(tmp_path / "e.pt")
    back = Trainer.load(tmp_path / "e.pt", progress=False)
    assert_close(back.sample(20), t.sample(20))
    back.run()
    t.run()
    assert_close(back.sample(20), t.sample(20), rtol=0, atol=0)


def test_bf16_training_runs_and_stays_close_to_fp32_on_one_step():
    a = Trainer(TrainConfig(**TINY, precision="bf16"), progress=False)
    assert a.amp_dtype == torch.bfloat16
    b = Trainer(TrainConfig(**TINY), progress=False)
    a.run(1)
    b.run(1)
    for p, q in zip(a.generator.parameters(), b.generator.parameters()):
        assert_close(p, q, rtol=0, atol=2e-4)  # one Adam step of lr 1e-4 moves each weight by <= ~1e-4
        assert p.dtype == torch.float32
    assert autocast_dtype("fp32", torch.device("cpu")) is None
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp16").resolved()


def test_one_pass_batching_is_algorithm_1():
    """The n_critic fake batches come from one G pass: identical to n_critic separate passes of the
    same G on the same noise (G does not change during the critic steps)."""
    t = Trainer(TrainConfig(**TINY), progress=False)
    z = torch.randn(5 * 16, 2)
    with torch.no_grad():
        together = t.generator(z)
        apart = torch.cat([t.generator(z[i * 16:(i + 1) * 16]) for i in range(5)])
    assert_close(together, apart)


@pytest.mark.parametrize("script", ["step_throughput.py", "distances.py", "lab_fps.py", "time_to_quality.py",
                                    "gpu_check.py"])
def test_bench_scripts_have_a_working_smoke_mode(script):
    r = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--smoke"], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip()
