"""Facts about the course itself: where it lives, its lessons, and the cells every notebook shares.

The repository URL is held here and nowhere else; ``tests/test_notebooks.py`` checks that
every notebook's Colab badge and setup cell are the ones built from it.
"""

from __future__ import annotations

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
#: this package from the repository, and turns on Colab's widget manager for the sliders.
SETUP_CELL = f"""# Setup: runs locally and on Colab.
import sys
if "google.colab" in sys.modules:  # Colab: install the course package, enable ipywidgets
    %pip install -q pot "git+{REPO_URL}@{BRANCH}"
    from google.colab import output
    output.enable_custom_widget_manager()

from wgan_lessons.settings import fast_mode, scaled, seed_everything
seed_everything(0)
print("fast mode (CI):", fast_mode())"""
