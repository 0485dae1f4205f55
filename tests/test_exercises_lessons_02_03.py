"""The checkers of lessons 02 and 03: each accepts correct answers (in more than one form), rejects
each typical wrong answer with its own message, and never raises."""

import math

import numpy as np
import ot
import pytest
import torch

from wgan_lessons.transport import wasserstein_1d as T_w1d

from wgan_lessons.exercises.base import CheckResult
from wgan_lessons.exercises.lesson02 import check_w1_from_cdfs, check_w1_sorted
from wgan_lessons.exercises.lesson03 import (check_cost_matrix, check_parallel_lines, check_sliced_w,
                                             check_wasserstein_pot)


def stub(*args, **kwargs):
    # YOUR CODE HERE
    raise NotImplementedError


def _assert_fails(result, *fragments):
    assert isinstance(result, CheckResult)
    assert not result.passed, f"expected a failure, got: {result}"
    text = str(result)
    for f in fragments:
        assert f.lower() in text.lower(), f"{f!r} not in {text!r}"


def _assert_passes(result):
    assert isinstance(result, CheckResult)
    assert result.passed, str(result)


# ----------------------------------------------------------------------------- lesson 02: W1 from sorted samples


def test_w1_sorted_accepts_numpy_and_torch_solutions():
    _assert_passes(check_w1_sorted(lambda u, v: np.mean(np.abs(np.sort(u) - np.sort(v)))))
    _assert_passes(check_w1_sorted(lambda u, v: (torch.tensor(u).sort().values - torch.tensor(v).sort().values)
                                   .abs().mean()))  # a torch scalar
    assert "only numpy" in str(check_w1_sorted(lambda u, v: float(ot.wasserstein_1d(u, v, p=1))))  # the rule
    _assert_passes(check_w1_sorted(lambda u, v: np.abs(sorted(u)[::-1] - np.sort(v)[::-1]).sum() / len(u)))


@pytest.mark.parametrize("wrong, fragment", [
    (lambda u, v: np.mean(np.abs(u - v)), "forgot to sort"),
    (lambda u, v: np.mean(np.abs(np.sort(u) - v)), "sorted only u"),
    (lambda u, v: np.mean(np.abs(u - np.sort(v))), "sorted only v"),
    (lambda u, v: np.mean(np.abs(np.sort(u) - np.sort(v)[::-1])), "opposite orders"),
    (lambda u, v: np.sqrt(np.mean((np.sort(u) - np.sort(v)) ** 2)), "returned W2"),
    (lambda u, v: np.mean((np.sort(u) - np.sort(v)) ** 2), "W2 squared"),
    (lambda u, v: np.mean(np.sort(u) - np.sort(v)), "without the absolute value"),
    (lambda u, v: abs(np.mean(np.sort(u) - np.sort(v))), "|mean(u) - mean(v)|"),
    (lambda u, v: np.sum(np.abs(np.sort(u) - np.sort(v))), "divide by n"),
    (lambda u, v: 1.2345, "does not match"),
])
def test_w1_sorted_names_the_mistake(wrong, fragment):
    _assert_fails(check_w1_sorted(wrong), fragment)


def test_w1_sorted_reports_stub_errors_and_bad_types():
    _assert_fails(check_w1_sorted(stub), "Not implemented yet")
    _assert_fails(check_w1_sorted(lambda u, v: 1 / 0), "raised an error", "ZeroDivisionError")
    _assert_fails(check_w1_sorted(lambda u, v: None), "return")
    _assert_fails(check_w1_sorted(lambda u, v: np.abs(np.sort(u) - np.sort(v))), "shape")
    _assert_fails(check_w1_sorted(lambda u, v: float("nan")), "finite")
    _assert_fails(check_w1_sorted(lambda u, v: "W1"), "number")


def test_w1_sorted_does_not_mutate_problems_for_later_cases():
    def sorts_in_place(u, v):
        u.sort()
        v.sort()
        return np.mean(np.abs(u - v))

    _assert_passes(check_w1_sorted(sorts_in_place))


# ----------------------------------------------------------------------------- lesson 02: W1 from CDFs


def test_w1_from_cdfs_accepts_riemann_and_trapezoid():
    _assert_passes(check_w1_from_cdfs(lambda p, q, g: np.sum(np.abs(p.cdf(g) - q.cdf(g))) * (g[1] - g[0])))
    _assert_passes(check_w1_from_cdfs(lambda p, q, g: np.trapezoid(np.abs(p.cdf(g) - q.cdf(g)), g)))
    _assert_passes(check_w1_from_cdfs(
        lambda p, q, g: torch.trapezoid(torch.as_tensor(np.abs(p.cdf(g) - q.cdf(g))), torch.as_tensor(g))))


@pytest.mark.parametrize("wrong, fragment", [
    (lambda p, q, g: np.sum(p.cdf(g) - q.cdf(g)) * (g[1] - g[0]), "without the absolute value"),
    (lambda p, q, g: abs(np.sum(p.cdf(g) - q.cdf(g)) * (g[1] - g[0])), "only after integrating"),
    (lambda p, q, g: np.sum(np.abs(p.cdf(g) - q.cdf(g))), "grid spacing dx"),
    (lambda p, q, g: np.mean(np.abs(p.cdf(g) - q.cdf(g))), "averaged"),
    (lambda p, q, g: np.sum((p.cdf(g) - q.cdf(g)) ** 2) * (g[1] - g[0]), "(F_p - F_q)^2"),
    (lambda p, q, g: np.sqrt(np.sum((p.cdf(g) - q.cdf(g)) ** 2) * (g[1] - g[0])), "sqrt"),
    (lambda p, q, g: np.sum(np.abs(p.pdf(g) - q.pdf(g))) * (g[1] - g[0]), "densities"),
    (lambda p, q, g: 0.5 * np.sum(np.abs(p.pdf(g) - q.pdf(g))) * (g[1] - g[0]), "total variation"),
])
def test_w1_from_cdfs_names_the_mistake(wrong, fragment):
    _assert_fails(check_w1_from_cdfs(wrong), fragment)


def test_w1_from_cdfs_stub():
    _assert_fails(check_w1_from_cdfs(stub), "Not implemented yet")


# ----------------------------------------------------------------------------- lesson 03: the cost matrix


def test_cost_matrix_accepts_pot_numpy_and_torch():
    _assert_passes(check_cost_matrix(lambda x, y, p: ot.dist(x, y, metric="euclidean") ** p))
    _assert_passes(check_cost_matrix(lambda x, y, p: np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1) ** p))
    _assert_passes(check_cost_matrix(lambda x, y, p: torch.cdist(torch.tensor(x), torch.tensor(y)) ** p))


@pytest.mark.parametrize("wrong, fragment", [
    (lambda x, y, p: ot.dist(x, y), "squared Euclidean cost, ot.dist's default"),
    (lambda x, y, p: ot.dist(x, y, metric="euclidean"), "without the power"),
    (lambda x, y, p: ot.dist(x, y) ** p, "squared distance to the power p"),
    (lambda x, y, p: ot.dist(x, y, metric="cityblock") ** p, "Manhattan"),
    (lambda x, y, p: (ot.dist(x, y, metric="euclidean") ** p).T, "transpose"),
    (lambda x, y, p: np.zeros((len(x), 1)), "shape"),
    (lambda x, y, p: ot.dist(x, y, metric="euclidean") ** p + 0.1, "differs"),
])
def test_cost_matrix_names_the_mistake(wrong, fragment):
    _assert_fails(check_cost_matrix(wrong), fragment)


def test_cost_matrix_stub_and_none():
    _assert_fails(check_cost_matrix(stub), "Not implemented yet")
    _assert_fails(check_cost_matrix(lambda x, y, p: None), "return")


# ----------------------------------------------------------------------------- lesson 03: W_p with POT


def _w_right(x, y, p):
    return ot.emd2([], [], ot.dist(x, y, metric="euclidean") ** p) ** (1 / p)


def test_wasserstein_pot_accepts_correct_forms():
    _assert_passes(check_wasserstein_pot(_w_right))

    def with_torch_and_weights(x, y, p):
        a = torch.full((len(x),), 1 / len(x), dtype=torch.float64)
        b = torch.full((len(y),), 1 / len(y), dtype=torch.float64)
        cost = torch.cdist(torch.tensor(x), torch.tensor(y)) ** p
        return ot.emd2(a, b, cost) ** (1 / p)  # a torch scalar

    _assert_passes(check_wasserstein_pot(with_torch_and_weights))


@pytest.mark.parametrize("wrong, fragment", [
    (lambda x, y, p: ot.emd2([], [], ot.dist(x, y)), "W2 squared"),
    (lambda x, y, p: ot.emd2([], [], ot.dist(x, y, metric="euclidean") ** p), "forgot the root"),
    (lambda x, y, p: ot.emd2([], [], ot.dist(x, y)) ** 0.5, "returned W2"),
    (lambda x, y, p: ot.emd2([], [], ot.dist(x, y, metric="euclidean")), "returned W1"),
    (lambda x, y, p: ot.emd2([], [], ot.dist(x, y, metric="euclidean")) ** (1 / p), "root of W1"),
    (lambda x, y, p: _w_right(x, y, p) * 1.01, "does not match"),
])
def test_wasserstein_pot_names_the_mistake(wrong, fragment):
    _assert_fails(check_wasserstein_pot(wrong), fragment)


def test_wasserstein_pot_stub():
    _assert_fails(check_wasserstein_pot(stub), "Not implemented yet")


# ----------------------------------------------------------------------------- lesson 03: sliced W by hand


def _sw_right(x, y, directions, p):
    px, py = np.sort(x @ directions.T, axis=0), np.sort(y @ directions.T, axis=0)
    return np.mean(np.mean(np.abs(px - py) ** p, axis=0)) ** (1 / p)


def _sw_parts(x, y, directions, p):
    """(W_p^p per direction, W1 per direction), both (K,)."""
    gaps = np.abs(np.sort(x @ directions.T, axis=0) - np.sort(y @ directions.T, axis=0))
    return np.mean(gaps ** p, axis=0), np.mean(gaps, axis=0)


def test_sliced_w_reference_is_the_numpy_formula():
    from wgan_lessons.exercises.lesson03 import _SW_CASES, _clouds, _directions, _sliced_reference

    for n, k, p, seed in _SW_CASES:
        x, y = _clouds(n, n, 2, seed)
        d = _directions(k, seed)
        assert d.shape == (k, 2)
        torch.testing.assert_close(torch.tensor(np.linalg.norm(d, axis=1)), torch.ones(k, dtype=torch.float64))
        torch.testing.assert_close(torch.tensor(_sliced_reference(x, y, d, p), dtype=torch.float64),
                                   torch.tensor(_sw_right(x, y, d, p), dtype=torch.float64))


def _fixed_directions(k):
    """K unit directions that ignore the ones the checker gives (a learner drawing their own)."""
    angles = np.linspace(0, np.pi, k, endpoint=False) + 0.1
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def test_sliced_w_accepts_correct_forms():
    _assert_passes(check_sliced_w(_sw_right))
    # with POT's 1-D solver, which returns W_p^p: averaged as it is, then one root
    _assert_passes(check_sliced_w(lambda x, y, d, p: np.mean([ot.wasserstein_1d(x @ t, y @ t, p=p) for t in d])
                                  ** (1 / p)))
    # POT's own sliced distance is the rule's exception: see test_sliced_w_rule_no_library_sliced_distance
    _assert_passes(check_sliced_w(lambda x, y, d, p: torch.stack(  # a torch scalar, a loop over directions
        [(torch.tensor(x @ t).sort().values - torch.tensor(y @ t).sort().values).abs().pow(p).mean() for t in d])
        .mean() ** (1 / p)))


def test_sliced_w_learner_cannot_change_the_problem():
    def clobbers(x, y, d, p):  # overwrites its inputs after computing the right value
        value = _sw_right(x, y, d, p)
        x[:], y[:], d[:] = 0.0, 0.0, 0.0
        return value

    _assert_passes(check_sliced_w(clobbers))


@pytest.mark.parametrize("wrong, fragment", [
    (lambda x, y, d, p: np.mean(_sw_parts(x, y, d, p)[0] ** (1 / p)), "averaged W_p over the directions"),
    (lambda x, y, d, p: np.mean([float(T_w1d(x @ t, y @ t, p=p)) for t in d]), "averaged W_p over the directions"),
    (lambda x, y, d, p: np.mean(_sw_parts(x, y, d, p)[0]), "without the final root"),
    (lambda x, y, d, p: np.mean(_sw_parts(x, y, d, p)[0] ** (1 / p)) ** (1 / p), "root twice"),
    (lambda x, y, d, p: np.mean(np.abs(x @ d.T - y @ d.T) ** p) ** (1 / p), "sort each projected cloud"),
    (lambda x, y, d, p: np.sum(_sw_parts(x, y, d, p)[0]) ** (1 / p), "summed"),
    (lambda x, y, d, p: np.max(_sw_parts(x, y, d, p)[0]) ** (1 / p), "max-sliced"),
    (lambda x, y, d, p: ot.emd2([], [], ot.dist(x, y, metric="euclidean") ** p) ** (1 / p), "exact W_p"),
    (lambda x, y, d, p: np.mean([ot.wasserstein_1d(x @ t, y @ t) for t in d]) ** (1 / p), "pass p="),
    (lambda x, y, d, p: np.mean(_sw_parts(x, y, d, p)[1]), "average 1-D W1 whatever p is"),
    (lambda x, y, d, p: _sw_right(x, y, _fixed_directions(len(d)), p), "does not change when the directions do"),
    (lambda x, y, d, p: _sw_right(x, y, d, p) * 1.01, "does not match"),
])
def test_sliced_w_names_the_mistake(wrong, fragment):
    _assert_fails(check_sliced_w(wrong), fragment)


def test_sliced_w_stub_errors_and_types():
    _assert_fails(check_sliced_w(stub), "Not implemented yet")
    _assert_fails(check_sliced_w(lambda x, y, d, p: x @ d), "raised an error")  # (n, 2) @ (K, 2): wrong orientation
    _assert_fails(check_sliced_w(lambda x, y, d, p: None), "return")
    _assert_fails(check_sliced_w(lambda x, y, d, p: _sw_parts(x, y, d, p)[0]), "shape")


def test_sliced_w_leaves_the_random_state_alone():
    np.random.seed(123)
    expected = np.random.rand()
    np.random.seed(123)
    check_sliced_w(lambda x, y, d, p: _sw_right(x, y, d, p) + np.random.rand() * 0)
    assert np.random.rand() == expected


# ----------------------------------------------------------------------------- lesson 03: parallel lines (no
# longer an exercise of the lesson; the checker stays for teachers who used it)


def _lines_right(theta):
    apart = theta != 0
    return {"W": abs(theta), "JS": math.log(2) if apart else 0.0, "KL": math.inf if apart else 0.0,
            "TV": 1.0 if apart else 0.0}


def test_parallel_lines_accepts_correct_forms():
    _assert_passes(check_parallel_lines(_lines_right))
    _assert_passes(check_parallel_lines(lambda t: {k: torch.tensor(v) for k, v in _lines_right(t).items()}))
    _assert_passes(check_parallel_lines(lambda t: {**_lines_right(t), "KL": float("inf") if t else 0, "extra": 1}))


def _patch(key, fn):
    return lambda t: {**_lines_right(t), key: fn(t)}


@pytest.mark.parametrize("wrong, fragment", [
    (_patch("W", lambda t: t), "never negative"),
    (_patch("W", lambda t: t * t), "W2 squared"),
    (_patch("W", lambda t: 2 * abs(t)), "W(P0, P_theta) = |theta|"),
    (_patch("JS", lambda t: 1.0 if t else 0.0), "bits"),
    (_patch("JS", lambda t: 2 * math.log(2) if t else 0.0), "1/2 weights"),
    (_patch("JS", lambda t: math.log(2)), "theta = 0"),
    (_patch("JS", lambda t: min(abs(t), math.log(2))), "whatever the size of theta"),
    (_patch("KL", lambda t: 1e6 if t else 0.0), "+inf"),
    (_patch("TV", lambda t: abs(t)), "does not grow"),
    (_patch("TV", lambda t: 0.5 if t else 0.0), "TV = 1"),
    (lambda t: {"W": abs(t)}, "no key"),
    (lambda t: [abs(t)], "dict"),
    (_patch("KL", lambda t: "inf"), "number"),
])
def test_parallel_lines_names_the_mistake(wrong, fragment):
    _assert_fails(check_parallel_lines(wrong), fragment)


def test_parallel_lines_stub():
    _assert_fails(check_parallel_lines(stub), "Not implemented yet")


# ----------------------------------------------------------------------------- the student notebooks hold stubs only

NOTEBOOKS = {"02_wasserstein_1d.ipynb": {"w1_sorted": "check_w1_sorted", "w1_from_cdfs": "check_w1_from_cdfs"},
             "03_wasserstein_2d.ipynb": {"cost_matrix": "check_cost_matrix", "wasserstein_pot": "check_wasserstein_pot",
                                         "sliced_w": "check_sliced_w"}}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_exercises_are_stubs_followed_by_their_check(name):
    import ast
    from pathlib import Path

    import nbformat

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / name, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    found = {}
    for i, src in enumerate(cells):
        if "# YOUR CODE HERE" not in src:
            continue
        (fn,) = ast.parse(src).body  # the cell defines one function and nothing else
        body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
        # after the docstring, the only statement is `raise NotImplementedError`: no solution in the notebook
        assert len(body) == 1 and isinstance(body[0], ast.Raise), f"{name}: {fn.name} is not a bare stub"
        assert ast.unparse(body[0].exc) == "NotImplementedError"
        found[fn.name] = cells[i + 1].strip()
    assert found == {f: f"{check}({f})" for f, check in NOTEBOOKS[name].items()}



def test_sliced_w_names_sorting_along_the_wrong_axis():
    """The fresh reader's find: np.sort(x @ directions.T) sorts along the directions (axis -1)."""
    def wrong_axis(x, y, d, p):
        return float(np.mean(np.abs(np.sort(x @ d.T) - np.sort(y @ d.T)) ** p) ** (1 / p))

    r = check_sliced_w(wrong_axis)
    assert not r.passed and "wrong axis" in r.message, r
