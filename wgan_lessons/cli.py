"""Command line: a thin argparse layer over :class:`wgan_lessons.train.TrainConfig`.

    python -m wgan_lessons train --method wgan-gp --data ring8 --steps 2500 --seed 0 --out runs/gp
    python -m wgan_lessons train --dry-run --out /tmp/smoke      # seconds-long smoke run
    python -m wgan_lessons teacher solutions                     # solutions/<lesson>.ipynb
    python -m wgan_lessons teacher export mycourse               # an nbgrader course folder

Writes to ``--out``: config.json, history.json, samples.npy (2500 generator samples),
samples.png (real vs generated over the critic's contour), metrics.json, checkpoint.pt.
Every flag is checked before training starts, and the files appear only when the run has
finished. The JSON files are strict JSON: a value that is not finite is written as null
(see :mod:`wgan_lessons.jsonio`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import fields, replace
from pathlib import Path

from wgan_lessons.train import DATASETS, LR_SCHEDULES, METHODS, OPTIMIZERS, PRECISIONS, TrainConfig

#: Settings for --dry-run: tiny networks and a handful of steps, for CI and a quick check.
DRY_RUN = dict(steps=3, batch_size=32, g_width=16, d_width=16, g_depth=2, d_depth=2, log_every=1, conv_base=4)
DRY_RUN_SAMPLES = 200

HELP = {
    "method": "gan (minimax), nsgan (non-saturating), wgan (weight clipping) or wgan-gp",
    "data": "2-D toy (ring8, grid25, swissroll) or images (digits, mnist, fashion-mnist)",
    "steps": "generator iterations (default: 2500 for toys, 2000 for images)",
    "batch_size": "samples per batch, m",
    "n_critic": "critic steps per generator step (default: 1 for gan/nsgan, 5 for wgan/wgan-gp)",
    "lr_g": "generator learning rate (default: 1e-4; 5e-5 for wgan)",
    "lr_d": "critic/discriminator learning rate (default: the method's, 1e-4; 5e-5 for wgan; not tied to --lr-g)",
    "betas": "Adam's beta1 beta2 (default: 0.5 0.9 for wgan-gp, 0.5 0.999 for gan)",
    "optimizer": "adam or rmsprop (default: rmsprop for wgan, adam otherwise)",
    "clip_value": "WGAN weight clipping box c (default 0.01)",
    "lambda_gp": "WGAN-GP penalty weight (default 0.1 on 2-D toys, 10 on images)",
    "z_dim": "noise dimension (default 2 for toys, 32 for images)",
    "g_width": "generator MLP width (toys)",
    "g_depth": "generator hidden layers (toys)",
    "d_width": "critic MLP width (toys)",
    "d_depth": "critic hidden layers (toys)",
    "activation": "MLP activation: relu, leaky_relu, tanh, elu, gelu",
    "conv_base": "base channels of the conv nets (images)",
    "seed": "seed for weights, data and noise",
    "device": "auto (CUDA, then MPS, then CPU), cpu, cuda or mps",
    "log_every": "record history every this many generator steps",
    "image_root": "folder with a torchvision copy of MNIST/Fashion-MNIST",
    "download": "download MNIST/Fashion-MNIST with torchvision",
    "lr_schedule": "constant, or linear: both learning rates decay linearly to 0 over --steps (WGAN-GP's released code)",
    "ema_decay": "beta of an exponential moving average of G's weights, used for sampling (0 = off)",
    "ema_start": "generator steps before the moving average starts (it copies the weights until then)",
    "precision": "fp32, bf16 (bfloat16 autocast for the training passes) or auto (bf16 where the hardware is fast at it)",
}


def _add_train_args(p: argparse.ArgumentParser) -> None:
    from wgan_lessons.presets import PRESETS

    p.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="start from a named preset (explicit flags override it): " +
                        "; ".join(f"{k}: {v.description}" for k, v in sorted(PRESETS.items())).replace("%", "%%"))
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        kw: dict = {"dest": f.name, "default": None, "help": HELP[f.name]}
        if f.name == "method":
            kw["choices"] = METHODS
        elif f.name == "data":
            kw["choices"] = DATASETS
        elif f.name == "optimizer":
            kw["choices"] = OPTIMIZERS
        elif f.name == "lr_schedule":
            kw["choices"] = LR_SCHEDULES
        elif f.name == "precision":
            kw["choices"] = PRECISIONS
        elif f.name == "betas":
            kw.update(nargs=2, type=float, metavar=("BETA1", "BETA2"))
        elif f.name == "download":
            kw["action"] = "store_true"
        elif f.name in ("device", "activation", "image_root"):
            kw["type"] = str
        elif f.name in ("lr_g", "lr_d", "clip_value", "lambda_gp", "ema_decay"):
            kw["type"] = float
        else:
            kw["type"] = int
        p.add_argument(flag, **kw)
    p.add_argument("--out", type=Path, default=Path("runs/latest"), help="output folder (created if missing)")
    p.add_argument("--dry-run", action="store_true",
                   help=f"smoke mode: {DRY_RUN['steps']} steps of tiny networks, {DRY_RUN_SAMPLES} samples "
                        "(flags given explicitly still apply)")
    p.add_argument("--samples", type=int, default=None,
                   help=f"generator samples saved and evaluated (default 2500; {DRY_RUN_SAMPLES} with --dry-run)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig that the parsed flags describe: the preset, then --dry-run's sizes, then the flags given."""
    from wgan_lessons.presets import PRESETS

    cfg = PRESETS[args.preset].config if args.preset else TrainConfig()
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if getattr(args, f.name) is not None}
    if "betas" in given:
        given["betas"] = tuple(given["betas"])
    if args.dry_run:  # smoke sizes, but a flag given explicitly is never replaced
        cfg = replace(cfg, **DRY_RUN)
    return replace(cfg, **given)


def _flag_names(message: str) -> str:
    """'TrainConfig.lr_g must be ...' -> '--lr-g must be ...': errors name the flag that was given."""
    return re.sub(r"TrainConfig\.(\w+)", lambda m: "--" + m.group(1).replace("_", "-"), message)


def _validated(args: argparse.Namespace) -> tuple:
    """Every flag checked before any work starts. Returns ``(config, n_samples)``.

    Raises:
        ValueError: naming the flag.
    """
    if args.samples is not None and args.samples < 1:
        raise ValueError(f"--samples must be an integer >= 1, got {args.samples}")
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out} is a file; give a folder (it is created if missing)")
    try:
        cfg = config_from_args(args).resolved()
    except ValueError as exc:
        raise ValueError(_flag_names(str(exc))) from None
    n_samples = args.samples if args.samples is not None else (DRY_RUN_SAMPLES if args.dry_run else 2500)
    return cfg, n_samples


RUN_FILES = ("config.json", "history.json", "samples.npy", "samples.png", "metrics.json", "checkpoint.pt")


def cmd_train(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from wgan_lessons.jsonio import write_json
    from wgan_lessons.plots import new_figure, plot_history, plot_image_grid, plot_samples
    from wgan_lessons.train import Trainer

    cfg, n_samples = _validated(args)
    out: Path = args.out
    try:
        trainer = Trainer(cfg, progress=not args.quiet)  # loads the data: fails here, before any output
    except FileNotFoundError as exc:
        raise ValueError(str(exc)) from None
    print(f"training {cfg.method} on {trainer.data_info['data']}"
          + (f" (images {'x'.join(map(str, trainer.data_info['image_shape']))})" if cfg.is_image else "")
          + f", {cfg.steps} generator steps, seed {cfg.seed}, device {trainer.device}")
    # Everything is written to a scratch folder beside --out and moved in at the end: a run that
    # fails or is interrupted leaves no half-written outputs.
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        t0 = time.perf_counter()
        trainer.run()
        train_seconds = time.perf_counter() - t0
        write_json(tmp / "config.json", trainer.config.to_dict(), indent=2)
        write_json(tmp / "history.json", trainer.history)
        trainer.save(tmp / "checkpoint.pt")
        samples = trainer.sample(n_samples)
        np.save(tmp / "samples.npy", samples.numpy())

        if trainer.config.is_image:
            fig, axes = new_figure(3, 1)
            plot_image_grid(axes[0, 0], trainer.sample_real(64).cpu(), title="real")
            plot_image_grid(axes[0, 1], samples[:64], title=f"generated, step {trainer.step}")
            plot_history(axes[0, 2], trainer.history)
            metrics = {}
        else:
            fig, axes = new_figure(2, 1)
            real = trainer.dist.sample(n_samples, generator=torch.Generator().manual_seed(cfg.seed + 3))
            plot_samples(axes[0, 0], real.numpy(), samples.numpy(), trainer.critic_scores,
                         title=f"{trainer.config.method} on {trainer.config.data}, step {trainer.step}")
            plot_history(axes[0, 1], trainer.history)
            metrics = trainer.evaluate(n_samples)
        fig.savefig(tmp / "samples.png", dpi=110)
        metrics.update({"train_seconds": round(train_seconds, 2), "steps": trainer.step,
                        "device": str(trainer.device), "stop_reason": trainer.stop_reason,
                        "data_info": trainer.data_info})
        write_json(tmp / "metrics.json", metrics, indent=2)
        out.mkdir(parents=True, exist_ok=True)
        for name in RUN_FILES:
            os.replace(tmp / name, out / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    summary = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()
                        if k in ("modes", "hq_fraction", "reverse_kl", "w1", "train_seconds"))
    if "hq_fraction" in metrics:
        from wgan_lessons.metrics import HQ_PERFECT

        summary += f" (a perfect sampler: hq_fraction={HQ_PERFECT:.4g})"
    print(f"wrote {out}/: {' '.join(RUN_FILES)}\n{summary}")
    if trainer.stop_reason:
        print(trainer.stop_reason, file=sys.stderr)
        return 1
    return 0


# ----------------------------------------------------------------------------- teacher


def cmd_teacher_solutions(args: argparse.Namespace) -> int:
    from wgan_lessons.teacher import build_solutions

    for path in build_solutions(args.out):
        print(f"wrote {path}")
    return 0


def cmd_teacher_export(args: argparse.Namespace) -> int:
    from wgan_lessons.teacher import export_nbgrader

    paths = export_nbgrader(args.dir, course_id=args.course_id, force=args.force)
    for path in paths:
        print(f"wrote {path}")
    print(f"next: cd {args.dir} && nbgrader generate_assignment <assignment>   (see docs/teachers.md)")
    return 0


def cmd_teacher_flags(args: argparse.Namespace) -> int:
    from wgan_lessons.grading import flags_report

    course = Path(args.dir)
    if not (course / "submitted").is_dir():
        print(f"error: {course} has no submitted/ folder: give the nbgrader course folder (where "
              "nbgrader_config.py is) after `nbgrader autograde`", file=sys.stderr)
        return 2
    rows = flags_report(course)
    if not rows:
        print(f"{course}: no submission is flagged, none had test cells restored, and every one was graded")
        return 0
    print(f"{len(rows)} submitted notebook(s) need a teacher's look:")
    for r in rows:
        print(f"- {r['student']} / {r['assignment']} / {r['notebook']}: {r['status']}")
        for reason in r["reasons"]:
            print(f"    {reason}")
    return 1


def _add_teacher_parser(sub) -> argparse.ArgumentParser:
    """``teacher solutions`` and ``teacher export``: see :mod:`wgan_lessons.teacher` and docs/teachers.md."""
    p = sub.add_parser("teacher", help="solution notebooks and an nbgrader course for teachers",
                       description="Tools for teachers (docs/teachers.md). The lessons in notebooks/ and the "
                                   "solutions in teacher/solutions/ are the sources of everything written here.")
    tsub = p.add_subparsers(dest="teacher_command", required=True)
    p_sol = tsub.add_parser("solutions", help="write the lessons with the solutions filled in",
                            description="Write <out>/<notebook>.ipynb for every lesson: the student notebook with "
                                        "each exercise's solution from teacher/solutions/<notebook>.py, no outputs.")
    p_sol.add_argument("--out", type=Path, default=Path("solutions"), help="output folder (default: solutions)")
    p_sol.set_defaults(func=cmd_teacher_solutions)
    p_exp = tsub.add_parser("export", help="write an nbgrader course (source notebooks and nbgrader_config.py)",
                            description="Write DIR/nbgrader_config.py and DIR/source/<lesson>/<lesson>.ipynb for "
                                        "every lesson in nbgrader's format: solutions between BEGIN/END SOLUTION "
                                        "markers, each check as an autograded test cell worth 1 point. Then run "
                                        "nbgrader in DIR (generate_assignment, autograde).")
    p_exp.add_argument("dir", type=Path, metavar="DIR", help="course folder (created if missing)")
    p_exp.add_argument("--course-id", default="wgan-lessons", help="nbgrader course id (default: wgan-lessons)")
    p_exp.add_argument("--force", action="store_true", help="overwrite files a previous export wrote")
    p_exp.set_defaults(func=cmd_teacher_export)
    p_flg = tsub.add_parser("flags", help="after nbgrader autograde: the submissions a teacher must look at",
                            description="List every submitted notebook that the course's grader flagged for "
                                        "review (it tried to change its own grading), that had test cells "
                                        "deleted (nbgrader restored them), or that could not be graded at all. "
                                        "Exit status 1 when there is any, 0 when there is none.")
    p_flg.add_argument("dir", type=Path, metavar="DIR", help="the nbgrader course folder")
    p_flg.set_defaults(func=cmd_teacher_flags)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m wgan_lessons",
                                     description="wgan-lessons: train GANs, WGANs and WGAN-GPs from the command line; "
                                                 "teacher tools (solutions, nbgrader export).")
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train", help="train one model and write its samples, plots and metrics",
                             description="Train one model. Unset flags take the paper defaults of --method.")
    _add_train_args(p_train)
    p_train.set_defaults(func=cmd_train)
    _add_teacher_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except ValueError as exc:  # bad config values: one clear line, no traceback
        parser.exit(2, f"error: {exc}\n")
