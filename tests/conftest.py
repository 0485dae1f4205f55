import inspect
import os
from pathlib import Path

import pytest
import torch

# The whole suite runs in the lessons' fast mode and on the CPU with 2 threads, or with 1 thread per
# worker process when pytest-xdist runs it on several (`make test` runs `pytest -n 2`).
os.environ.setdefault("WGAN_LESSONS_FAST", "1")
torch.set_num_threads(1 if os.environ.get("PYTEST_XDIST_WORKER") else min(2, torch.get_num_threads()))
TESTS = Path(__file__).resolve().parent


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


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items):
    """Keep the tests that share one of this suite's expensive fixtures in one pytest-xdist worker
    (`--dist loadgroup`): a session fixture groups every test using it (tests/test_presets.py and
    tests/test_lesson_06_claims.py share `preset_rows`), a module fixture its module's tests. So
    nothing slow is computed twice; every other test goes wherever a worker is free."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        session, module = [], False
        for name in item.fixturenames:
            for fd in (info.name2fixturedefs.get(name, ()) if info else ()):
                try:
                    ours = Path(inspect.getfile(fd.func)).resolve().parent == TESTS
                except TypeError:
                    ours = False
                if ours and fd.scope == "session":
                    session.append(name)
                module |= ours and fd.scope == "module"
        if session or module:
            item.add_marker(pytest.mark.xdist_group(min(session) if session else item.module.__name__))


def pytest_terminal_summary(terminalreporter):
    """Print each lesson notebook's fast-mode seconds at the end of the run (issue: notebooks as a
    product); tests/test_notebooks.py records them as a property, which reaches here from any worker."""
    seconds = {k[len("notebook_seconds:"):]: v for rep in terminalreporter.stats.get("passed", [])
               for k, v in getattr(rep, "user_properties", []) if k.startswith("notebook_seconds:")}
    if seconds:
        parts = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(seconds.items()))
        terminalreporter.write_line(f"notebook seconds (fast mode): {parts}; total {sum(seconds.values()):.1f}s")
