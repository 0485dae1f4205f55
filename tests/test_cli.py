import json
import subprocess
import sys

import numpy as np
import pytest

from wgan_lessons.cli import build_parser, config_from_args, main
from wgan_lessons.train import TrainConfig


def test_dry_run_writes_every_output(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--method", "wgan-gp", "--data", "ring8", "--seed", "1", "--dry-run", "--quiet",
                 "--out", str(out)]) == 0
    for name in ("config.json", "history.json", "samples.npy", "samples.png", "metrics.json", "checkpoint.pt"):
        assert (out / name).exists(), name
    m = json.loads((out / "metrics.json").read_text())
    assert {"modes", "hq_fraction", "reverse_kl", "w1"} <= set(m)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["method"] == "wgan-gp" and cfg["seed"] == 1


def test_full_size_sample_file_shape(tmp_path):
    out = tmp_path / "r"
    main(["train", "--steps", "1", "--g-width", "8", "--d-width", "8", "--quiet", "--out", str(out)])
    assert np.load(out / "samples.npy").shape == (2500, 2)


def test_flags_map_to_config():
    args = build_parser().parse_args(["train", "--method", "wgan", "--clip-value", "0.05", "--n-critic", "3",
                                      "--betas", "0", "0.9", "--out", "x"])
    cfg = config_from_args(args)
    assert cfg == TrainConfig(method="wgan", clip_value=0.05, n_critic=3, betas=(0.0, 0.9))


def test_preset_then_overrides():
    args = build_parser().parse_args(["train", "--preset", "mode-collapse", "--seed", "4"])
    cfg = config_from_args(args)
    assert cfg.method == "nsgan" and cfg.seed == 4


def test_bad_value_is_one_clear_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "wgan_lessons", "train", "--n-critic", "0", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "--n-critic" in r.stderr and "Traceback" not in r.stderr


def test_help_documents_every_flag():
    r = subprocess.run([sys.executable, "-m", "wgan_lessons", "train", "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    from dataclasses import fields

    for f in fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in r.stdout
