"""Facts about the course itself: where it lives, its lessons, and the cells every notebook shares.

The repository URL is held here and nowhere else; ``tests/test_notebooks.py`` checks that
every notebook's Colab badge and setup cell are the ones built from it.
"""

from __future__ import annotations

import contextlib
import os

REPO = "wgan-lessons/wgan-lessons"
REPO_URL = f"https://github.com/{REPO}"
BRANCH = "main"


def colab_url(notebook: str) -> str:
    """The Open-in-Colab address of ``notebooks/<notebook>``."""
    return f"https://colab.research.google.com/github/{REPO}/blob/{BRANCH}/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """Markdown for the Open-in-Colab badge of ``notebook``."""
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"


#: The first code cell of every lesson. Locally it only imports; on Colab it installs POT and
#: this package from the repository, and turns on Colab's widget manager for the sliders. It says
#: what the "fast mode" line means (tests/test_notebooks.py checks every lesson uses this cell).
SETUP_CELL = f"""# Setup: runs locally and on Colab.
import sys
if "google.colab" in sys.modules:  # Colab: install the course package, enable ipywidgets
    %pip install -q pot "git+{REPO_URL}@{BRANCH}"
    from google.colab import output
    output.enable_custom_widget_manager()

from wgan_lessons.settings import fast_mode, numbers_match_the_text, scaled, seed_everything
seed_everything(0)
# Fast mode is for the course's automatic tests (they set WGAN_LESSONS_FAST=1): every long run
# shrinks to a few steps, so the numbers printed then do not match the text. As a learner you
# have it off, and every number the text quotes is measured by the cells you run.
print("fast mode:", fast_mode(), "(the test setting: tiny runs whose numbers do not match the text)"
      if fast_mode() else "(off: full runs)")
# The text's numbers were measured on one kind of CPU; on another, training rounds differently.
print("numbers:", numbers_match_the_text()[1])"""


@contextlib.contextmanager
def kernel_environment(fast: bool, one_thread: bool | None = None):
    """Environment variables that the kernels started inside the block inherit: fast mode on or off,
    matplotlib's Agg backend (unless one is set), and, by default in fast mode, one torch thread per
    kernel (two OpenMP threads crawl beside a test runner on a 2-core machine). Restored afterwards."""
    names = ("WGAN_LESSONS_FAST", "MPLBACKEND", "OMP_NUM_THREADS")
    saved = {k: os.environ.get(k) for k in names}
    os.environ["WGAN_LESSONS_FAST"] = "1" if fast else "0"
    os.environ.setdefault("MPLBACKEND", "Agg")
    if fast if one_thread is None else one_thread:
        os.environ["OMP_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class SlicedPollMixin:
    """For an ``nbclient.NotebookClient`` subclass (or nbconvert's / nbgrader's executors, which are
    such subclasses): the wait for a cell's shell reply polls in 0.5 s slices. nbclient waits in
    one long poll, which after an ipywidgets cell sometimes misses the reply and sits until the
    cell timeout (nbclient#312, nbconvert#2029); re-polling every 0.5 s finds it."""

    async def async_start_new_kernel_client(self):
        from queue import Empty
        from time import monotonic

        from nbclient.util import ensure_async

        kc = await super().async_start_new_kernel_client()
        channel = kc.shell_channel
        original = channel.get_msg

        async def get_msg(timeout=None):
            deadline = None if timeout is None else monotonic() + timeout
            while True:
                step = 0.5 if deadline is None else max(0.0, min(0.5, deadline - monotonic()))
                try:
                    return await ensure_async(original(timeout=step))
                except Empty:
                    if deadline is not None and monotonic() >= deadline:
                        raise

        channel.get_msg = get_msg
        return kc


def notebook_client_class():
    """An ``nbclient.NotebookClient`` subclass (tests, ``make course``) with :class:`SlicedPollMixin`."""
    from nbclient import NotebookClient

    class SlicedPollClient(SlicedPollMixin, NotebookClient):
        pass

    return SlicedPollClient
