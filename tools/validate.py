"""Hyper-parameter selection on a validation split (never the test set).

    python tools/validate.py --data ../shared/data/mnist [--config configs/best-100.toml] \
        --epochs 3 --set learning.eta0=0.1 [--hidden 6400] [--log docs/results/validation.jsonl]

Trains on the first 50,000 training images and reports the accuracy on the
last 10,000 (held out) after every epoch, on the numpy reference path (which
ends training with the same weights as the Lava processes, bit for bit). Each
run appends one JSON line (overrides, per-epoch validation accuracy, seconds)
to ``--log``, so every selection documented in docs/results.md can be rerun.
``--t-eval 32 64`` also classifies the held-out images with the final weights
and longer inference windows (the free phase only; training is unchanged).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lava_balanced.cli import parse_sets  # noqa: E402
from lava_balanced.config import Config  # noqa: E402
from lava_balanced.data import Dataset, load_dataset  # noqa: E402
from lava_balanced.experiments import scaled_for_hidden  # noqa: E402
from lava_balanced.model import init_weights  # noqa: E402
from lava_balanced.reference import run_reference  # noqa: E402
from lava_balanced.training import _schedule, evaluate  # noqa: E402

N_VAL = 10_000


def validation_split(ds: Dataset, n_train: int = 0) -> Dataset:
    """The first 50,000 training images to train on, the last 10,000 as the
    test split (the real test set is not touched)."""
    if len(ds.train_images) <= N_VAL:
        raise ValueError(f"a validation split needs more than {N_VAL} training images, "
                         f"{ds.source} has {len(ds.train_images)} (use the full MNIST)")
    cut = len(ds.train_images) - N_VAL
    end = min(cut, n_train) if n_train else cut
    return Dataset(ds.train_images[:end], ds.train_labels[:end], ds.train_images[cut:],
                   ds.train_labels[cut:], source=ds.source + " (validation split)")


def train_and_validate(cfg: Config, ds: Dataset, on_epoch=None):
    """Train ``cfg.training.epochs`` epochs on ``ds``'s training split with
    the schedule :func:`lava_balanced.train` runs (global batches across
    epochs: the same shuffles, spikes and learning-rate decay, so the weights
    are the ones ``train`` ends with), classifying ``ds``'s test split after
    every epoch. Returns ``(weights, accuracies)``."""
    weights, accs = init_weights(cfg, ds.train_images.shape[1]), []
    per_epoch = len(ds.train_images) // cfg.training.batch_size
    for epoch in range(cfg.training.epochs):
        sched = _schedule(cfg, len(ds.train_images), True, epoch * per_epoch)
        weights, _ = run_reference(weights, cfg, ds.train_images, ds.train_labels, sched, per_epoch)
        accs.append(evaluate(weights, cfg, ds, backend="reference", limit=False).accuracy)
        if on_epoch is not None:
            on_epoch(epoch, accs[-1])
    return weights, accs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", help="TOML file to start from (default: the defaults)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--epochs", type=int, help="default: the configuration's training.epochs")
    ap.add_argument("--hidden", type=int, help="hidden neurons, with the configuration rescaled as Table 1 "
                    "rescales it (lava_balanced.experiments.scaled_for_hidden) before any --set")
    ap.add_argument("--n-train", type=int, default=0, help="train on the first N of the 50,000 only")
    ap.add_argument("--n-val", type=int, default=N_VAL, help="validate on the first N of the 10,000")
    ap.add_argument("--t-eval", type=int, nargs="+", default=[], metavar="T",
                    help="after the last epoch, classify the held-out images again with an inference "
                    "window of T free-phase steps (encoding.t_free at evaluation only), for each T")
    ap.add_argument("--log", help="append the result as a JSON line to this file")
    ap.add_argument("--name", default="", help="a label for the log")
    args = ap.parse_args(argv)

    cfg = Config.load(args.config) if args.config else Config()
    if args.hidden:
        cfg = scaled_for_hidden(cfg, args.hidden, cfg.training.n_hidden)
    cfg = cfg.override(**parse_sets(args.set), **{"training.epochs": args.epochs, "training.n_train": 0,
                                       "training.n_test": 0})  # None (no --epochs) keeps the config's
    ds = validation_split(load_dataset(args.data), args.n_train).subset(None, args.n_val)
    t0 = time.time()
    weights, accs = train_and_validate(cfg, ds, lambda e, acc: print(
        f"epoch {e + 1}: validation {acc:.4f} ({time.time() - t0:.0f} s)", flush=True))
    t_eval = {}
    for t in args.t_eval:
        t_eval[str(t)] = evaluate(weights, cfg.override(**{"encoding.t_free": t}), ds, backend="reference",
                                  limit=False).accuracy
        print(f"inference window {t} steps: validation {t_eval[str(t)]:.4f}", flush=True)
    rec = {"name": args.name, "set": args.set, "config": args.config, "epochs": cfg.training.epochs,
           **({"hidden": args.hidden} if args.hidden else {}), **({"t_eval": t_eval} if t_eval else {}),
           "n_train": len(ds.train_images), "n_val": len(ds.test_images), "val": accs,
           "seconds": round(time.time() - t0, 1)}
    print(json.dumps(rec))
    if args.log:
        with open(args.log, "a") as fh:
            fh.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
