import os

import pytest
import torch

# The whole suite runs in the lessons' fast mode and on the CPU with 2 threads.
os.environ.setdefault("WGAN_LESSONS_FAST", "1")
torch.set_num_threads(min(2, torch.get_num_threads()))


@pytest.fixture
def gen():
    return torch.Generator().manual_seed(0)
