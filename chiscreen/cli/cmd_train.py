"""``chiscreen train``: train the multitask deep ensemble and write a model artifact.

    chiscreen train --config configs/train-default.yaml --out runs/default
"""
from __future__ import annotations

import time
from pathlib import Path

from chiscreen.cli.validate import positive_int


def register(sub) -> None:
    p = sub.add_parser("train", help="train the multitask chi ensemble; writes a model artifact directory")
    p.add_argument("--config", required=True, help="training config YAML (see configs/train-default.yaml)")
    p.add_argument("--out", required=True, help="output directory (the artifact plus the resolved config.yaml)")
    p.add_argument("--seed", type=int, default=None, help="override the config's seed")
    p.add_argument("--members", type=positive_int, default=None, help="override the config's n_members")
    p.add_argument("--device", default=None, help="override the config's device (auto, cpu, cuda)")
    p.add_argument("--overwrite", action="store_true",
                   help="write into a non-empty folder chiscreen does not own (its other files are kept)")
    p.add_argument("--take-over", action="store_true", help="take over the stale lock of an interrupted run")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


#: files a training run writes into --out (the artifact and its config)
TRAIN_FILES = ["config.json", "metrics.json", "scalers.npz", "weights.pt", "domain.npz", "train-config.yaml"]


def run(args) -> int:
    from chiscreen.config import load_config, save_config
    from chiscreen.model import TrainConfig
    from chiscreen.model import artifact_hash
    from chiscreen.model.build import train_and_save

    from chiscreen.cli.validate import config_file, output_dir, training_tables

    config_file(args.config, "--config")
    cfg = load_config(args.config, TrainConfig)   # unknown keys and wrong types raise here
    output_dir(args.out, "--out")                 # before any data is read or member trained
    training_tables(cfg.data, args.config)
    if args.seed is not None:
        cfg.seed = args.seed
    if args.members is not None:
        cfg.n_members = args.members
    if args.device is not None:
        cfg.device = args.device
    from chiscreen.cli.validate import torch_device

    torch_device(cfg.device, "--device" if args.device is not None else f"{args.config}: device")
    from chiscreen.runtime import OwnedDir

    out = Path(args.out)
    t0 = time.perf_counter()
    with OwnedDir(out, "train", TRAIN_FILES, overwrite=args.overwrite, take_over=args.take_over) as owned:
        res = train_and_save(cfg, out, progress=not args.no_progress, log=print)
        save_config(cfg, out / "train-config.yaml")
        owned.write_manifest({"artifact_hash": artifact_hash(res.ensemble), "config": str(args.config)})
    print(f"training time for the {cfg.n_members}-member ensemble: {res.seconds:.1f} s "
          f"(featurization {res.featurize_seconds:.1f} s, std calibration {res.calibration.get('seconds', 0.0):.1f} s, "
          f"total {time.perf_counter() - t0:.1f} s)")
    print(f"wrote model artifact {out} (hash {artifact_hash(res.ensemble)})")
    return 0
