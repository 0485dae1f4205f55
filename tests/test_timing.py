"""wgan_lessons.timing: seconds per step measured side by side, and equal-time step budgets."""

import pytest
import torch

from wgan_lessons import timing


def test_seconds_per_step_measures_each_preset_and_restores_the_threads():
    threads = torch.get_num_threads()
    m = timing.seconds_per_step(("wgan-clipping", "stable-wgan-gp"), steps=2, rounds=2, warmup=1)
    assert set(m["seconds_per_step"]) == {"wgan-clipping", "stable-wgan-gp"}
    assert all(v > 0 for v in m["seconds_per_step"].values())
    assert len(m["ratios"]) == 2 and m["ratio"] == pytest.approx(sorted(m["ratios"])[0] / 2 + sorted(m["ratios"])[1] / 2)
    assert m["threads"] == 1 and torch.get_num_threads() == threads


def test_equal_time_steps_is_the_reference_budget_over_the_ratio(monkeypatch):
    fake = {"seconds_per_step": {"wgan-clipping": 0.02, "stable-wgan-gp": 0.03}, "ratio": 2 / 3, "ratios": [2 / 3],
            "threads": 1}
    monkeypatch.setattr(timing, "seconds_per_step", lambda names, **kw: fake)
    eq = timing.equal_time_steps("wgan-clipping", "stable-wgan-gp")
    assert eq["reference_steps"] == 1000 and eq["steps"] == 1500  # the cheaper step gets more steps
    assert timing.equal_time_steps(reference_steps=300)["steps"] == 450


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown preset"):
        timing.seconds_per_step(("nope", "stable-wgan-gp"))
    with pytest.raises(ValueError, match="steps"):
        timing.seconds_per_step(steps=0)
    with pytest.raises(ValueError, match="reference_rows"):
        timing.measure_at_equal_time(seeds=(0, 1), reference_rows=[{"preset": "stable-wgan-gp", "seed": 0,
                                                                    "step": 1000}])


def test_measure_at_equal_time_reuses_reference_rows_and_matches_measure_presets(monkeypatch):
    from wgan_lessons.presets import measure_presets

    monkeypatch.setattr(timing, "seconds_per_step", lambda names, **kw: {
        "seconds_per_step": dict.fromkeys(names, 0.01), "ratio": 2.0, "ratios": [2.0], "threads": 1})
    ref = measure_presets(names=("stable-wgan-gp",), seeds=(0,), steps=6, w1=False, track_every=None,
                          n_samples=200, progress=False)
    res = timing.measure_at_equal_time(seeds=(0,), reference_rows=ref, n_samples=200, workers=1)
    assert res["equal_time"]["steps"] == 3 and res["equal_time"]["reference_steps"] == 6
    assert res["rows"][0] is ref[0]
    clip = res["rows"][1]
    same = measure_presets(names=("wgan-clipping",), seeds=(0,), steps=3, w1=False, track_every=None,
                           n_samples=200, progress=False)[0]
    assert (clip["preset"], clip["step"]) == ("wgan-clipping", 3)
    assert {k: v for k, v in clip.items() if k not in ("seconds", "cpu_seconds", "w1")} == \
        {k: v for k, v in same.items() if k not in ("seconds", "cpu_seconds", "w1")}
