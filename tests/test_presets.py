"""The claims lesson 01 makes about the presets, re-measured on 5 seeds (slow, but runs in CI)."""

import pytest

from wgan_lessons.presets import PRESETS, claims_table, get_preset, measure_presets

SEEDS = [0, 1, 2, 3, 4]


@pytest.fixture(scope="module")
def rows():
    rows = measure_presets(seeds=SEEDS, w1=False, progress=False)
    print("\n" + claims_table(rows))
    return rows


@pytest.mark.slow
def test_mode_collapse_preset_covers_at_most_half_the_modes(rows):
    modes = [r["modes"] for r in rows if r["preset"] == "mode-collapse"]
    assert sum(k <= 4 for k in modes) >= 4, f"modes per seed: {modes}"


@pytest.mark.slow
def test_wgan_gp_preset_covers_all_modes(rows):
    modes = [r["modes"] for r in rows if r["preset"] == "stable-wgan-gp"]
    assert sum(k == 8 for k in modes) >= 4, f"modes per seed: {modes}"


@pytest.mark.slow
def test_presets_are_fast_enough_for_a_laptop(rows):
    # About 8 s (collapse) and 35 s (WGAN-GP) per run on an idle 2-core CPU; the bound leaves room
    # for a loaded CI machine while still catching a preset that became minutes long.
    for r in rows:
        assert r["seconds"] < 180, r


def test_presets_share_networks_and_seed_handling():
    a, b = get_preset("mode-collapse", seed=3), get_preset("stable-wgan-gp", seed=3)
    assert (a.g_width, a.d_width, a.data, a.seed) == (b.g_width, b.d_width, b.data, b.seed)
    assert set(PRESETS) == {"mode-collapse", "stable-wgan-gp"}
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("nope")
