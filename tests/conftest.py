import os

import pytest
import torch

# The whole suite runs in the lessons' fast mode and on the CPU with 2 threads.
os.environ.setdefault("WGAN_LESSONS_FAST", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)


def pytest_terminal_summary(terminalreporter):
    """Print each lesson notebook's fast-mode seconds at the end of the run (issue: notebooks as a product)."""
    import sys

    mod = sys.modules.get("test_notebooks")
    seconds = getattr(mod, "SECONDS", None)
    if seconds:
        parts = ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items())
        terminalreporter.write_line(f"notebook seconds (fast mode): {parts}; total {sum(seconds.values()):.1f}s")
