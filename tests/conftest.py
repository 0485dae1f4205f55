import os

import pytest
import torch

try:
    import resource  # Unix only: without it the CPU budget line below is left out
except ImportError:  # pragma: no cover (Windows)
    resource = None

# The whole suite runs in the lessons' fast mode and on the CPU with 2 threads, or with 1 thread per
# worker process when pytest-xdist runs it on several (`make test` runs `pytest -n 2`).
os.environ.setdefault("WGAN_LESSONS_FAST", "1")
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else min(2, torch.get_num_threads()))


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


@pytest.fixture(scope="session")
def preset_rows():
    """mode-collapse and stable-wgan-gp trained on seeds 0-4 and measured (lesson 01's 5-seed claims, and
    the WGAN-GP side of lesson 06's): slow, so measured once per test session and shared by
    tests/test_presets.py and tests/test_lesson_06_claims.py. Two worker processes with one torch
    thread each give the same numbers as one process (tests/test_presets.py checks it)."""
    from wgan_lessons.presets import claims_table, measure_presets

    rows = measure_presets(names=("mode-collapse", "stable-wgan-gp"), seeds=[0, 1, 2, 3, 4], w1=False,
                           progress=False, track_every=50, workers=2)
    print("\n" + claims_table(rows))
    return rows


#: pytest-xdist work units (`make test` runs `pytest -n auto --dist loadfile`): one per test file, so a
#: module fixture is computed once, except that files sharing an expensive session fixture form one unit.
SHARED_UNITS = {"tests/test_presets.py": "preset_rows", "tests/test_lesson_06_claims.py": "preset_rows"}
#: Files whose tests share no fixture worth keeping together: each test is a unit of its own, so that two
#: workers can run them at once (each runs a lesson's cells in its own kernel for minutes).
PER_TEST_UNITS = {"tests/test_lesson_single_runs.py"}
_SINGLE = "tests/test_lesson_single_runs.py::test_single_run_numbers_in_the_text_are_what_the_cells_print"
#: The longest units first (measured), so that the last unit a worker starts is a short one.
LONGEST_FIRST = ("preset_rows", f"{_SINGLE}[06_wgan_gp.ipynb]", f"{_SINGLE}[05_wgan_weight_clipping.ipynb]",
                 f"{_SINGLE}[01_gan_minimax.ipynb]", f"{_SINGLE}[04_duality_and_the_critic.ipynb]",
                 "tests/test_lesson_05_claims.py", "tests/test_grading_trust.py",
                 "tests/test_nbgrader.py", "tests/test_lesson_04_claims.py", "tests/test_browser.py",
                 "tests/test_notebooks.py")


def _unit(nodeid: str) -> str:
    file = nodeid.split("::", 1)[0]
    if file in PER_TEST_UNITS:
        return nodeid
    return SHARED_UNITS.get(file, file)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """pytest-xdist's file scheduling with :data:`SHARED_UNITS` merged. (Its `loadgroup` would do it with
    markers, but with pytest 9 it no longer sees them: it renames `item._nodeid`, which pytest 9 does not
    read.)"""
    from xdist.scheduler import LoadFileScheduling

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return SharedFixtureScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """The longest work units first (a stable sort: within a unit, the file's order)."""
    rank = {u: i for i, u in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_unit(item.nodeid), len(rank)))


#: `make test` is to stay under 10 minutes on the project's 2-core machine, claims included: 1200 CPU seconds.
CPU_BUDGET_SECONDS = 2 * 600
_CPU_AT_SETUP = pytest.StashKey[float]()


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its children that have ended (the lessons' kernels,
    the preset runs' worker processes, nbgrader), as the operating system counts them."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if resource is not None:
        item.stash[_CPU_AT_SETUP] = _cpu_seconds()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Each test's CPU seconds, its fixtures' included, go into its teardown report (user_properties are
    copied into the report after this hook), which reaches the controller from any xdist worker."""
    yield
    start = item.stash.get(_CPU_AT_SETUP, None)
    if start is not None:
        item.user_properties.append(("cpu_seconds", _cpu_seconds() - start))


def cpu_budget_line(by_file: dict, top: int = 8) -> str:
    """One line: the suite's CPU seconds against :data:`CPU_BUDGET_SECONDS`, and the files that cost most."""
    total = sum(by_file.values())
    worst = sorted(by_file.items(), key=lambda kv: -kv[1])[:top]
    parts = ", ".join(f"{os.path.basename(f)} {v:.0f}" for f, v in worst)
    return (f"CPU seconds (tests, their fixtures and their child processes): {total:.0f}, against the "
            f"{CPU_BUDGET_SECONDS} that 10 minutes on 2 cores hold; the most: {parts}")


def pytest_terminal_summary(terminalreporter):
    """Print each lesson notebook's fast-mode seconds at the end of the run (issue: notebooks as a
    product); tests/test_notebooks.py records them as a property, which reaches here from any worker.
    Then the suite's CPU seconds by file (:func:`cpu_budget_line`)."""
    by_file = {}
    teardowns = [rep for reports in terminalreporter.stats.values() for rep in reports
                 if getattr(rep, "when", None) == "teardown"]
    for rep in teardowns:
        for key, value in rep.user_properties:
            if key == "cpu_seconds":
                file = rep.nodeid.split("::", 1)[0]
                by_file[file] = by_file.get(file, 0.0) + value
    if by_file:
        terminalreporter.write_line(cpu_budget_line(by_file))
    seconds = {k[len("notebook_seconds:"):]: v for rep in terminalreporter.stats.get("passed", [])
               for k, v in getattr(rep, "user_properties", []) if k.startswith("notebook_seconds:")}
    if seconds:
        parts = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(seconds.items()))
        terminalreporter.write_line(f"notebook seconds (fast mode): {parts}; total {sum(seconds.values()):.1f}s")
