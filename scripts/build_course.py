#!/usr/bin/env python
"""Build a publishable static copy of the course: every lesson executed and rendered to HTML.

    python scripts/build_course.py                    # all notebooks/[0-9]*.ipynb, full settings
    python scripts/build_course.py --fast             # fast mode (WGAN_LESSONS_FAST=1), for testing
    python scripts/build_course.py notebooks/02_wasserstein_1d.ipynb --out /tmp/course

``make course`` runs the first form. Each notebook is executed with nbclient in its own folder
(at the learners' full settings unless ``--fast``), rendered with nbconvert's HTMLExporter to
``<out>/<name>.html`` with its images and widget state embedded (sliders show their last state;
they do not compute without a kernel), and ``<out>/index.html`` links the lessons in order with
their titles (the first markdown cell's ``# `` heading). Each notebook's seconds are printed.
Exits 1 if a notebook fails; the others are still built.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAST_ENV = "WGAN_LESSONS_FAST"


def lesson_title(nb) -> str | None:
    """The text of the first markdown cell's ``# `` heading, or None."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("# "):
                return line[2:].strip().rstrip("#").strip()
        return None
    return None


def _colab_url(name: str) -> str | None:
    try:
        from wgan_lessons.course import colab_url
    except ImportError:
        return None
    return colab_url(name)


def execute(path: Path, timeout: int, kernel_name: str):
    """Run ``path`` top to bottom in its own folder; returns the executed notebook."""
    import nbformat
    from wgan_lessons.course import notebook_client_class

    NotebookClient = notebook_client_class()

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def render(nb, path: Path, title: str, out: Path) -> Path:
    """Write ``nb`` as ``<out>/<stem>.html`` (lab template, local images embedded)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", embed_images=True)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title, "path": str(path.parent)}})
    target = out / f"{path.stem}.html"
    target.write_text(body, encoding="utf-8")
    return target


def write_index(out: Path, lessons: list[tuple[str, str, str | None]], fast: bool) -> Path:
    """``lessons``: (html file name, title, Colab URL or None), in order."""
    items = []
    for href, title, colab in lessons:
        link = f'<a href="{html.escape(href)}">{html.escape(title)}</a>'
        if colab:
            link += f' &middot; <a class="colab" href="{html.escape(colab)}">open in Colab</a>'
        items.append(f"    <li>{link}</li>")
    note = " (built in fast mode: reduced steps and sizes)" if fast else ""
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>wgan-lessons: an interactive course on Wasserstein GANs</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; }}
    li {{ margin: 0.4rem 0; }} .colab {{ font-size: 0.85em; }} .note {{ color: #555; font-size: 0.9em; }}
  </style>
</head>
<body>
  <h1>wgan-lessons</h1>
  <p>An interactive course on Wasserstein GANs, from the GAN minimax game to WGAN-GP and beyond.</p>
  <ol>
{chr(10).join(items)}
  </ol>
  <p class="note">A static copy: every lesson was run top to bottom{note}. Sliders show their last
  state and do not recompute here; open a lesson in Colab or JupyterLab to move them.</p>
</body>
</html>
"""
    target = out / "index.html"
    target.write_text(page, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("notebooks", nargs="*", type=Path,
                    help="notebooks to build (default: notebooks/[0-9]*.ipynb)")
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "course", help="output folder (default: build/course)")
    ap.add_argument("--fast", action="store_true", help=f"run the lessons in fast mode ({FAST_ENV}=1)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per cell (default: 3600)")
    ap.add_argument("--kernel", default="python3", help="kernel name (default: python3)")
    args = ap.parse_args(argv)

    paths = sorted(args.notebooks or (ROOT / "notebooks").glob("[0-9]*.ipynb"), key=lambda p: p.name)
    if not paths:
        print("build_course: no notebooks to build (expected notebooks/[0-9]*.ipynb)", file=sys.stderr)
        return 1
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"build_course: not found: {', '.join(missing)}", file=sys.stderr)
        return 1

    stems = [p.stem for p in paths]
    clashes = sorted({s for s in stems if stems.count(s) > 1})
    if clashes:
        print(f"build_course: two notebooks would both be written as {', '.join(c + '.html' for c in clashes)}",
              file=sys.stderr)
        return 1

    # The kernels inherit this environment: full settings unless --fast, inline figures.
    if args.fast:
        os.environ[FAST_ENV] = "1"
    else:
        os.environ.pop(FAST_ENV, None)
    os.environ.pop("MPLBACKEND", None)

    import nbformat  # noqa: F401  (fail early with a clear ImportError)

    args.out.mkdir(parents=True, exist_ok=True)
    lessons, failed, total = [], [], 0.0
    print(f"building {len(paths)} notebook(s) into {args.out} ({'fast' if args.fast else 'full'} settings)")
    for path in paths:
        t0 = time.perf_counter()
        try:
            nb = execute(path.resolve(), args.timeout, args.kernel)
        except Exception as exc:  # CellExecutionError, DeadKernelError, timeouts
            seconds = time.perf_counter() - t0
            total += seconds
            failed.append(path.name)
            print(f"{path.name}: FAILED after {seconds:.1f} s\n{exc}", file=sys.stderr)
            continue
        seconds = time.perf_counter() - t0
        total += seconds
        title = lesson_title(nb) or path.stem
        target = render(nb, path.resolve(), title, args.out)
        lessons.append((target.name, title, _colab_url(path.name)))
        print(f"{path.name}: {seconds:.1f} s -> {target}", flush=True)
    index = write_index(args.out, lessons, args.fast)
    print(f"index: {index}; {len(lessons)} built, {len(failed)} failed; {total:.1f} s in all")
    if failed:
        print(f"build_course: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
