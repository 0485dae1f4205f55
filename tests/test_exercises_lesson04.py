"""Lesson 04's exercise checker, check_c_transform: it accepts correct variants (numpy, torch, ot.dist, loops) and
names each usual mistake; the critic-loss exercise uses check_critic_loss (tests/test_exercises_wgan.py), which
accepts the lesson's solution."""

import importlib.util
from pathlib import Path

import numpy as np
import ot
import pytest
import torch
from scipy.spatial.distance import cdist

from wgan_lessons.exercises import check_c_transform, check_critic_loss

ROOT = Path(__file__).resolve().parents[1]


def _solutions():
    spec = importlib.util.spec_from_file_location("sol04", ROOT / "teacher" / "solutions" / "04_duality_and_the_critic.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_teacher_solutions_pass():
    sol = _solutions()
    assert check_critic_loss(sol.critic_loss).passed
    r = check_c_transform(sol.c_transform_by_hand)
    assert r.passed, r


def _loops(z, y, v):
    return [min(float(np.hypot(*(zi - yj))) - vj for yj, vj in zip(y, v)) for zi in z]


CORRECT = {
    "scipy cdist": lambda z, y, v: (cdist(z, y) - v).min(axis=1),
    "broadcasting": lambda z, y, v: (np.linalg.norm(z[:, None, :] - y[None, :, :], axis=-1) - v[None, :]).min(1),
    "ot.dist euclidean": lambda z, y, v: np.min(ot.dist(z, y, metric="euclidean") - v, axis=1),
    "torch": lambda z, y, v: (torch.cdist(torch.tensor(z), torch.tensor(y)) - torch.tensor(v)).min(dim=1).values,
    "loops, a list": _loops,
    "sqrt of ot.dist's default": lambda z, y, v: (np.sqrt(ot.dist(z, y)) - v).min(1),
}


@pytest.mark.parametrize("name", CORRECT)
def test_correct_variants_pass(name):
    r = check_c_transform(CORRECT[name])
    assert r.passed, r


MISTAKES = {
    "maximum": (lambda z, y, v: (cdist(z, y) - v).max(1), "maximum over j"),
    "sign of v": (lambda z, y, v: (cdist(z, y) + v).min(1), "sign of v is flipped"),
    "returned -f": (lambda z, y, v: -(cdist(z, y) - v).min(1), "You returned -f"),
    "max of v - d": (lambda z, y, v: (v - cdist(z, y)).max(1), "You returned -f"),
    "squared distance (ot.dist default)": (lambda z, y, v: (ot.dist(z, y) - v).min(1), "squared distance"),
    "no v": (lambda z, y, v: cdist(z, y).min(1), "left out v"),
    "v outside the minimum": (lambda z, y, v: cdist(z, y).min(1) - v.max(), "subtract v_j inside"),
    "manhattan": (lambda z, y, v: (cdist(z, y, "cityblock") - v).min(1), "Manhattan"),
    "argmin": (lambda z, y, v: (cdist(z, y) - v).argmin(1), "argmin"),
    "wrong axis": (lambda z, y, v: (cdist(z, y) - v).min(0), "one value per point y_j"),
    "no minimum": (lambda z, y, v: cdist(z, y) - v, "whole (k, m) matrix"),
    "minimum of everything": (lambda z, y, v: (cdist(z, y) - v).min(), "minimum over the whole matrix"),
    "nan": (lambda z, y, v: np.full(len(z), np.nan), "NaN or inf"),
    "no return": (lambda z, y, v: None, "returned None"),
    "not implemented": (lambda z, y, v: (_ for _ in ()).throw(NotImplementedError), "Not implemented yet"),
    "raises": (lambda z, y, v: z @ y, "raised an error"),
    "something else": (lambda z, y, v: (cdist(z, y) - v).min(1) + 0.01, "differ from min_j"),
}


@pytest.mark.parametrize("name", MISTAKES)
def test_each_mistake_is_named(name):
    fn, words = MISTAKES[name]
    r = check_c_transform(fn)
    assert not r.passed
    assert words in str(r), str(r)


def test_the_rule_no_course_c_transform_whatever_the_alias():
    from wgan_lessons import duality
    from wgan_lessons.duality import c_transform as ct

    def via_alias(z, y, v):
        return ct(z, y, v)

    def via_module(z, y, v):
        return duality.c_transform(z, y, v)

    pot = duality.dual_potential(np.zeros((2, 2)), np.ones((2, 2)))

    def via_potential(z, y, v):
        return pot(z) * 0 + (cdist(z, y) - v).min(1)

    for fn in (via_alias, via_module, via_potential):
        r = check_c_transform(fn)
        assert not r.passed and "This exercise's rule" in r.message and "wgan_lessons.duality" in r.message, r


def test_checker_leaves_the_global_random_state_alone():
    np.random.seed(3)
    torch.manual_seed(3)
    before_np, before_t = np.random.get_state()[1].copy(), torch.get_rng_state()
    check_c_transform(CORRECT["scipy cdist"])
    check_c_transform(lambda z, y, v: np.random.rand(len(z)) + torch.rand(1).item())
    assert np.array_equal(np.random.get_state()[1], before_np) and torch.equal(torch.get_rng_state(), before_t)
