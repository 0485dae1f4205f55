"""The claims lesson 01 makes about the presets, re-measured on 5 seeds (slow, but runs in CI)."""

from dataclasses import fields

import pytest

from wgan_lessons.presets import PRESETS, claims_table, get_preset, measure_presets, mode_hops

SEEDS = [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def rows():
    rows = measure_presets(names=("mode-collapse", "stable-wgan-gp"), seeds=SEEDS, w1=False, progress=False)
    print("\n" + claims_table(rows))
    return rows


def _of(rows, name):
    return [r for r in rows if r["preset"] == name]


@pytest.mark.slow
def test_mode_collapse_preset_covers_at_most_half_the_modes(rows):
    # The claim lesson 01 makes today. (Issue 12 asks for collapse as VEEGAN / Metz et al. mean it:
    # few modes *with* high-quality samples, hopping; not yet reached, see the preset's docstring.)
    modes = [r["modes"] for r in _of(rows, "mode-collapse")]
    assert sum(k <= 4 for k in modes) >= 4, f"modes per seed: {modes}"


@pytest.mark.slow
def test_wgan_gp_preset_covers_all_modes(rows):
    modes = [r["modes"] for r in _of(rows, "stable-wgan-gp")]
    assert sum(k == 8 for k in modes) >= 4, f"modes per seed: {modes}"


@pytest.mark.slow
def test_wgan_gp_preset_has_mostly_high_quality_samples(rows):
    # lesson 01 quotes 86 to 88% (measured); the claim it stands on: at least 80% in 4 of 5 seeds
    hq = [round(r["hq_fraction"], 3) for r in _of(rows, "stable-wgan-gp")]
    assert sum(h >= 0.80 for h in hq) >= 4, f"HQ per seed: {hq}"


@pytest.mark.slow
def test_presets_are_fast_enough_for_a_laptop(rows):
    # About 12 s (collapse) and 30 s (WGAN-GP) of training per run on an idle 2-core CPU; the bound
    # leaves room for a loaded CI machine while still catching a preset that became minutes long.
    for r in rows:
        assert r["seconds"] < 120, r


def test_presets_share_data_networks_and_learning_rates():
    a, b = get_preset("mode-collapse", seed=3), get_preset("stable-wgan-gp", seed=3)
    for name in ("data", "g_width", "d_width", "g_depth", "d_depth", "z_dim", "lr_g", "lr_d", "seed"):
        assert getattr(a, name) == getattr(b, name), name
    sharp = get_preset("sharp-wgan-gp", seed=3)
    assert {f.name for f in fields(b) if getattr(b, f.name) != getattr(sharp, f.name)} == {"steps"}
    assert set(PRESETS) == {"mode-collapse", "stable-wgan-gp", "sharp-wgan-gp"}
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("nope")


def test_mode_hops_counts_changes_of_the_covered_set():
    assert mode_hops([[], [1], [1], [1, 2], [3], []]) == 2
    assert mode_hops([[0, 1, 2], [0, 1, 2]]) == 0
    assert mode_hops([]) == 0
