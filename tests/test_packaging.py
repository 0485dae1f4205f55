"""Packaging: pyproject.toml and environment.yml agree; the runtime dependencies are what the
package imports and bring no Jupyter server (so Colab keeps its own); importing has no side effects."""

import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req.strip(), maxsplit=1)[0].lower()


def _spec(req: str) -> str:
    return req.strip()[len(_name(req)):].replace(" ", "")


def test_environment_yml_matches_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = {CONDA_NAMES.get(_name(d), _name(d)): _spec(d) for d in env if isinstance(d, str)}
    pip = [d for d in env if isinstance(d, dict)][0]["pip"]
    pip = {_name(d): _spec(d) for d in pip if not d.startswith("-e")}
    runtime = {_name(d): _spec(d) for d in py["dependencies"]}
    extras = {}
    for reqs in py["optional-dependencies"].values():
        for d in reqs:
            assert extras.setdefault(_name(d), _spec(d)) == _spec(d), f"{d}: two ranges in the extras"
    conda.pop("python"), conda.pop("pip")
    assert conda == runtime
    assert pip == extras


def test_torch_range_admits_local_and_colab():
    from packaging.specifiers import SpecifierSet

    py = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = {_name(d): SpecifierSet(_spec(d)) for d in py["dependencies"]}
    for v in ("2.14.1", "2.9.0", "2.6.0"):  # here, and recent Colab images
        assert v in specs["torch"]
    assert "0.29.1" in specs["torchvision"] and "0.24.0" in specs["torchvision"]


def test_import_has_no_side_effects():
    code = ("import sys, torch; s = torch.random.get_rng_state().clone(); import wgan_lessons, wgan_lessons.train, "
            "wgan_lessons.cli, wgan_lessons.metrics, wgan_lessons.plots; "
            "assert torch.equal(s, torch.random.get_rng_state()); assert 'matplotlib.pyplot' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


# ----------------------------------------------------------------------------- what gets installed
# The runtime dependencies are what `wgan_lessons` imports, and nothing that brings a Jupyter
# server or front end: Colab has its own (issue: the setup cell's `pip install` pulled in JupyterLab).
FRONT_ENDS = {"jupyterlab", "jupyter-server", "notebook", "jupyterlab-server", "notebook-shim", "nbclassic"}
#: Modules imported from a distribution that a runtime dependency requires: {dist: required by}.
VIA = {"ipython": "ipywidgets"}
#: Tooling imported lazily (inside a function) that lives in an extra, not in the runtime deps.
TOOLING = {"nbclient": "lab", "nbgrader": "test"}  # nbgrader: only for teachers grading (wgan_lessons.grading)
#: What Google Colab preinstalls (recent images); the setup cell must leave all of it alone.
COLAB = {"torch": "2.9.0", "torchvision": "0.24.0", "numpy": "2.0.2", "scipy": "1.16.3",
         "scikit-learn": "1.6.1", "matplotlib": "3.10.0", "ipywidgets": "7.7.1", "tqdm": "4.67.1",
         "nbformat": "5.10.4"}


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _canon(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def _imports():
    """{top-level module: [(file, lazy)]} for every absolute import in wgan_lessons/, where lazy
    means the import sits inside a function."""
    import ast

    found: dict[str, list] = {}
    for path in sorted((ROOT / "wgan_lessons").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        lazy_nodes = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lazy_nodes.update(id(n) for n in ast.walk(fn) if n is not fn)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                found.setdefault(top, []).append((path.relative_to(ROOT).as_posix(), id(node) in lazy_nodes))
    return {m: v for m, v in found.items()
            if m not in sys.stdlib_module_names and m not in ("__future__", "wgan_lessons")}


def _dists_of(module: str, _cache={}) -> set[str]:
    from importlib.metadata import packages_distributions

    if not _cache:
        _cache.update(packages_distributions())
    return {_canon(d) for d in _cache.get(module, [])}


def test_runtime_dependencies_are_what_the_package_imports():
    project = _project()
    runtime = {_canon(_name(d)) for d in project["dependencies"]}
    extras = {k: {_canon(_name(d)) for d in v} for k, v in project["optional-dependencies"].items()}
    imports = _imports()
    provided = set()
    for module, where in sorted(imports.items()):
        dists = _dists_of(module)
        assert dists, f"{module} (imported by {where[0][0]}) belongs to no installed distribution"
        provided |= dists
        if dists & runtime:
            continue
        if module in TOOLING:
            assert dists & extras[TOOLING[module]], f"{module} is in neither the runtime deps nor the extra"
            eager = [f for f, lazy in where if not lazy]
            assert not eager, f"{module} is tooling from an extra but {eager} import it at module level"
            continue
        via = {VIA[d] for d in dists if d in VIA}
        assert via & runtime, f"{module} ({where[0][0]}) is not a runtime dependency: declare {sorted(dists)}"
        from importlib.metadata import requires

        assert dists & {_canon(_name(r)) for r in requires(next(iter(via))) or []}, module
    assert runtime <= provided, f"runtime deps nothing imports: {sorted(runtime - provided)}"
    assert not runtime & FRONT_ENDS, sorted(runtime & FRONT_ENDS)
    assert "jupyterlab" in extras["lab"] and "ipykernel" in extras["lab"]  # `make lab` runs both
    assert extras["lab"] <= extras["test"]  # the tests execute notebooks and start JupyterLab
    assert "'.[lab,test]'" in (ROOT / "Makefile").read_text()


def test_runtime_ranges_admit_colab_preinstalled():
    """Colab never has to reinstall or upgrade what it ships."""
    from packaging.specifiers import SpecifierSet

    specs = {_canon(_name(d)): SpecifierSet(_spec(d)) for d in _project()["dependencies"]}
    for name, version in COLAB.items():
        assert version in specs[name], f"{name} {version} (Colab) is outside {specs[name]}"


def _closure(requirements: list[str]) -> tuple[set[str], set[str]]:
    """Names in the transitive closure of ``requirements`` by the installed distributions' metadata
    (markers evaluated for this interpreter, a dependency's extras only when asked for), and the
    names required but not installed."""
    from importlib.metadata import PackageNotFoundError, distribution
    from packaging.requirements import Requirement

    seen, missing = set(), set()
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        name = _canon(req.name)
        key = (name, tuple(sorted(req.extras)))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            missing.add(name)
            continue
        for r in dist.requires or []:
            sub = Requirement(r)
            for ex in ("", *sorted(req.extras)):
                todo.append((sub, ex))
    return {n for n, _ in seen} - missing, missing


def test_runtime_closure_has_no_jupyter_server():
    names, missing = _closure(_project()["dependencies"])
    assert not missing, f"required but not installed: {sorted(missing)}"
    assert {"torch", "numpy", "ipywidgets", "ipython"} <= names
    assert not names & FRONT_ENDS, f"the runtime deps pull in {sorted(names & FRONT_ENDS)}"


def _setup_cell_pip_args() -> list[str]:
    """The arguments of the Colab setup cell's `%pip install`, the git URL replaced by this checkout."""
    from wgan_lessons.course import REPO_URL, SETUP_CELL

    lines = [ln.strip() for ln in SETUP_CELL.splitlines() if ln.strip().startswith("%pip install")]
    assert len(lines) == 1, lines
    args = shlex.split(lines[0])[2:]
    assert not {"-U", "--upgrade", "--force-reinstall", "--ignore-installed", "-I"} & set(args), args
    assert [a for a in args if not a.startswith("-")] == ["pot", f"git+{REPO_URL}@main"], args
    return [str(ROOT) if a.startswith("git+") else a for a in args]


def _pip(args: list[str], *, python: str | None = None, timeout: int = 300) -> dict:
    """``pip install --dry-run --report`` with ``args``; the parsed report. Skips when the
    package index cannot be reached."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", *(["--python", python] if python else []),
               "install", "--dry-run", "--quiet", "--retries", "1", "--timeout", "20",
               "--report", str(report), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            probe = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps",
                                    "--ignore-installed", "--retries", "0", "--timeout", "10", "setuptools"],
                                   capture_output=True, text=True, timeout=120)
            if probe.returncode != 0:
                pytest.skip("the package index cannot be reached: " + probe.stderr.strip()[-300:])
            pytest.fail(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
        return json.loads(report.read_text())


def _installs(report: dict) -> dict[str, str]:
    return {_canon(i["metadata"]["name"]): i["metadata"]["version"] for i in report["install"]}


@pytest.mark.slow
def test_clean_install_resolves_without_jupyter_server(tmp_path):
    """Resolve ``pip install <this checkout>`` for real (the index, markers, every version range)
    in a fresh virtual environment that holds only torch and torchvision, as Colab does; seeding
    them (their metadata, no files) keeps pip from fetching ~1 GB of torch and CUDA wheels."""
    heavy, missing = _closure(["torch", "torchvision"])
    if missing:
        pytest.skip(f"torch's dependencies are not all installed: {sorted(missing)}")
    venv = tmp_path / "clean"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    purelib = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  check=True, capture_output=True, text=True).stdout.strip())
    from importlib.metadata import distribution

    for name in heavy:
        meta = next(f for f in distribution(name).files if f.name == "METADATA" and f.parent.name.endswith(".dist-info"))
        src = Path(distribution(name).locate_file(meta)).parent
        shutil.copytree(src, purelib / src.name)
    start = time.monotonic()
    installs = _installs(_pip([str(ROOT)], python=python))
    print(f"clean resolution: {time.monotonic() - start:.1f} s, {len(installs)} to install")
    runtime = {_canon(_name(d)) for d in _project()["dependencies"]}
    assert {"wgan-lessons"} | (runtime - heavy) <= set(installs)
    assert not set(installs) & heavy, "torch or its dependencies would be reinstalled"
    assert not set(installs) & FRONT_ENDS, f"a clean install pulls in {sorted(set(installs) & FRONT_ENDS)}"


@pytest.mark.slow
def test_colab_setup_cell_installs_nothing_already_there():
    """The setup cell's install, run where torch, matplotlib, ipywidgets and numpy are installed
    (this environment), installs the package (and POT where missing) and changes nothing else."""
    args = _setup_cell_pip_args()
    try:
        import setuptools  # noqa: F401  (the build backend is here: no index needed for it)

        args = ["--no-build-isolation", *args]
    except ImportError:
        pass
    installs = _installs(_pip(args))
    assert "wgan-lessons" in installs
    changed = set(installs) - {"wgan-lessons", "pot"}
    assert not changed, f"the setup cell would reinstall or upgrade {sorted(changed)}"
    assert not {"torch", "torchvision", "matplotlib", "ipywidgets", "numpy"} & set(installs)


def test_no_string_in_the_package_holds_a_control_character():
    """The kind of fault behind lesson 05's broken $\\text{fan-in}$: a LaTeX backslash eaten by an escape
    ("\\t", "\\b", "\\f", "\\r", "\\a", "\\v") in a plot label, a docstring or a checker's message."""
    import ast
    import re

    root = Path(__file__).resolve().parents[1]
    bad = []
    for path in [*(root / "wgan_lessons").rglob("*.py"), *(root / "teacher").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.search(r"[\x00-\x09\x0b-\x1f\x7f]", node.value):
                bad.append(f"{path.relative_to(root)}:{node.lineno}: {node.value[:60]!r}")
    assert not bad, bad
