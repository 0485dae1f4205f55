"""pyproject.toml and environment.yml list the same dependencies; importing has no side effects."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

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
    test = {_name(d): _spec(d) for d in py["optional-dependencies"]["test"]}
    conda.pop("python"), conda.pop("pip")
    assert conda == runtime
    assert pip == test


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
