"""The CPU budget line that `make test` prints at its end (tests/conftest.py): it counts the CPU of the child
processes a test starts (the lessons' kernels, the preset runs' workers), which is where the suite spends it."""

import subprocess
import sys

import pytest

from conftest import CPU_BUDGET_SECONDS, _cpu_seconds, cpu_budget_line

resource = pytest.importorskip("resource", reason="the CPU budget is read with the Unix-only resource module")


def test_a_child_process_cpu_is_counted_once_it_has_ended():
    before = _cpu_seconds()
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass"
    subprocess.run([sys.executable, "-c", busy], check=True)
    assert _cpu_seconds() - before >= 0.4


def test_the_line_names_the_total_the_budget_and_the_costliest_files():
    line = cpu_budget_line({"tests/a.py": 10.0, "tests/b.py": 700.4, "tests/c.py": 1.0}, top=2)
    assert line.startswith("CPU seconds (tests, their fixtures and their child processes): 711, against the 1200")
    assert line.endswith("the most: b.py 700, a.py 10")
    assert CPU_BUDGET_SECONDS == 1200
