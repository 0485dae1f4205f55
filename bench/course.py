"""The whole course: every lesson's seconds, in fast mode (what CI runs) and at full settings (what a
learner runs), one notebook after the other in this one run.

    python bench/course.py                 # fast mode and full settings, every lesson (full: many minutes)
    python bench/course.py --fast-only     # fast mode only (about half a minute)
    python bench/course.py notebooks/02_wasserstein_1d.ipynb

Each notebook runs top to bottom in a fresh kernel (nbclient, the same client as the tests), with
one torch thread per kernel in fast mode as in CI and torch's default at full settings as a learner
has. Printed: seconds per lesson and mode, and the ratio full / fast.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_notebook(path: Path, fast: bool, timeout: int) -> float:
    import nbformat

    from wgan_lessons.course import kernel_environment, notebook_client_class

    with kernel_environment(fast):
        nb = nbformat.read(path, as_version=4)
        client = notebook_client_class()(nb, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(path.parent)}})
        t0 = time.perf_counter()
        client.execute()
        return time.perf_counter() - t0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebooks", nargs="*", type=Path)
    p.add_argument("--fast-only", action="store_true")
    p.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = p.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    print("| lesson | fast mode s | full settings s | full / fast |")
    print("|---|---|---|---|")
    totals = [0.0, 0.0]
    for path in paths:
        fast = run_notebook(path, True, args.timeout)
        full = None if args.fast_only else run_notebook(path, False, args.timeout)
        totals[0] += fast
        totals[1] += full or 0.0
        print(f"| {path.name} | {fast:.1f} | {'-' if full is None else f'{full:.0f}'} | "
              f"{'-' if full is None else f'{full / fast:.0f}x'} |", flush=True)
    print(f"| total | {totals[0]:.1f} | {'-' if args.fast_only else f'{totals[1]:.0f}'} | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
