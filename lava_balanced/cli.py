"""``lava-balanced``: train and evaluate Balanced SNNs from the command line.

::

    lava-balanced train [--config FILE] [--data DIR|bundled|cache] [--out DIR] ...
    lava-balanced evaluate MODEL [--data ...] [--split test|train]
    lava-balanced experiment mp_curve|stp|inhibitory|ablation|table1 [--quick] [--out docs/results]
    lava-balanced export MODEL --to nir|loihi OUT [--measure] [--stp calibrated|steady|first]
    lava-balanced evaluate-nir FILE.nir [--dt 1.0] [--data ...]   # any NIR chain, run on Lava
    lava-balanced config            # print the default configuration (TOML)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from .config import Config, ConfigError
from .data import DEFAULT_CACHE, IDXError
from .lava_models import TAG_ASYNC, TAG_SYNC
from .model import load_model
from .runner import LavaRunError

__all__ = ["main"]


def _data_arg(value: Optional[str]) -> str:
    """``--data``: a folder, ``bundled``, or ``cache``; default
    ``$LAVA_BALANCED_DATA`` if set, else the bundled subset."""
    if value is None:
        return os.environ.get("LAVA_BALANCED_DATA") or "bundled"
    if value == "cache":
        return str(DEFAULT_CACHE)
    return value


def _parse_value(text: str):
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_sets(items: Optional[List[str]]) -> Dict[str, Any]:
    """``["section.key=value", ...]`` (repeated ``--set`` flags) as a dict of
    overrides for :meth:`Config.override`, values parsed as bool, int, float
    or string; a later key wins."""
    overrides: Dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects section.key=value, got {item!r}")
        overrides[key.strip()] = _parse_value(value.strip())
    return overrides


def _build_config(args) -> Config:
    cfg = Config.load(args.config) if args.config else Config()
    overrides = {
        "training.n_hidden": args.hidden, "training.epochs": args.epochs,
        "training.batch_size": args.batch_size, "training.seed": args.seed,
        "training.n_train": args.n_train, "training.n_test": args.n_test,
        "training.p_inh": args.p_inh, "training.checkpoint_every": args.checkpoint_every,
    }
    overrides.update(parse_sets(args.set))
    return cfg.override(**overrides)


def _print_confusion(conf: np.ndarray) -> None:
    n = conf.shape[0]
    print("confusion matrix (rows: true class, columns: predicted)")
    print("      " + " ".join(f"{j:>5d}" for j in range(n)))
    for i in range(n):
        print(f"{i:>5d} " + " ".join(f"{conf[i, j]:>5d}" for j in range(n)))


class _Progress:
    def __init__(self, enabled: bool):
        self.bar = None
        self.enabled = enabled

    def __call__(self, info: dict) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=info["total"], initial=info["batch"], unit="batch", desc="train",
                            file=sys.stderr)
            return
        self.bar.update(info["batch"] - self.bar.n)
        self.bar.set_postfix(train_acc=f"{info['train_accuracy']:.3f}",
                             ckpt="saved" if info.get("checkpoint") else "")

    def close(self):
        if self.bar is not None:
            self.bar.close()


def cmd_train(args) -> int:
    from .training import train

    cfg = _build_config(args)
    data = _data_arg(args.data)
    out = Path(args.out)
    print(f"lava-balanced train: 784-{cfg.training.n_hidden}-{cfg.training.n_output} Balanced SNN, "
          f"{cfg.training.epochs} epoch(s), batch {cfg.training.batch_size}, data: {data}, "
          f"backend: {args.backend}, output: {out}")
    bar = _Progress(not args.quiet)
    try:
        result = train(cfg, data, out_dir=out, resume=args.resume, backend=args.backend, tag=args.tag,
                       progress=bar, timeout=args.timeout, download=args.download)
    finally:
        bar.close()
    print(f"trained in {result.seconds:.1f} s; on-line training accuracy {result.train_accuracy:.4f}")
    if result.test is not None:
        n = int(result.test.confusion.sum())
        print(f"test accuracy: {result.test.accuracy:.4f} ({int(np.trace(result.test.confusion))}/{n})")
    print(f"model written to {result.model_path}")
    return 0


def cmd_evaluate(args) -> int:
    from .training import evaluate

    weights, cfg, meta = load_model(args.model)
    if args.n_test is not None:
        cfg = cfg.override(**{"training.n_test": args.n_test})
    data = _data_arg(args.data)
    res = evaluate(weights, cfg, data, split=args.split, backend=args.backend, tag=args.tag,
                   timeout=args.timeout, download=args.download, limit=args.split == "test")
    n = int(res.confusion.sum())
    if args.json:
        print(json.dumps({"model": str(args.model), "data": data, "split": args.split, "n": n,
                          **res.to_dict()}))
        return 0
    print(f"{args.model}: {args.split} accuracy {res.accuracy:.4f} ({int(np.trace(res.confusion))}/{n}) "
          f"on {data} [{args.backend}]")
    _print_confusion(res.confusion)
    return 0


def cmd_experiment(args) -> int:
    from .experiments import run_experiment

    cfg = _build_config(args)
    command = args.command_line or "lava-balanced " + " ".join(args.argv)
    res = run_experiment(args.name, cfg, out=args.out, quick=args.quick, data=_data_arg(args.data),
                         backend=args.backend, progress=None if args.quiet else print, command=command,
                         eval_every=args.eval_every)
    print(",".join(res["header"]))
    for row in res["rows"]:
        print(",".join(str(v) for v in row))
    print(f"wrote {args.out}/{args.name}.csv, .json, .png in {res['seconds']:.1f} s")
    return 0


def _deploy_net(args, weights, cfg, ds):
    from .deploy import from_trained

    n_cal = min(args.calibration, len(ds.train_images))
    return from_trained(weights, cfg, stp=args.stp, calibration_images=ds.train_images[:n_cal],
                        stp_rate=args.stp_rate)


def cmd_export(args) -> int:
    """Export a trained model (NIR graph, or Loihi fixed point), optionally
    measuring what the export computes against the trained network."""
    from .data import load_dataset
    from .deploy import evaluate_deploy
    from .training import evaluate

    weights, cfg, meta = load_model(args.model)
    data = _data_arg(args.data)
    ds = load_dataset(data, download=args.download)
    net = _deploy_net(args, weights, cfg, ds)
    out = Path(args.out)
    report = {"model": str(args.model), "to": args.to, "out": str(out), "data": data,
              "stp_mapping": net.metadata["stp_mapping"],
              "inhibition_mapping": net.metadata["inhibition_mapping"],
              "n_calibration": net.metadata["n_calibration_images"],
              "dt": net.dt, "t_steps": net.t_steps}
    if args.to == "nir":
        from .exporters.nir import describe, from_nir, read_nir, to_nir, write_nir

        graph = to_nir(net)
        write_nir(out, graph)
        print(f"wrote {out} (NIR: {describe(graph)}, dt = {net.dt} ms, "
              f"{net.t_steps} steps per sample; STP: {net.metadata['stp_mapping']}; inhibition: "
              f"{net.metadata['inhibition_mapping']})")
        run_net, run_tag = from_nir(read_nir(out), dt=net.dt), args.tag
    else:
        from .exporters.loihi import quantize, read_netx, write_netx

        write_netx(out, quantize(net))
        print(f"wrote {out} (Loihi fixed point, lava-dl netx layout plus lava-balanced attributes)")
        run_net, run_tag = read_netx(out), "fixed_pt"
    if args.measure:
        images, labels = ds.test_images, ds.test_labels
        if args.n_test:
            images, labels = images[:args.n_test], labels[:args.n_test]
        trained = evaluate(weights, cfg, ds.subset(None, len(images)),
                           backend=args.backend, limit=False)
        exported = evaluate_deploy(run_net, images, labels, backend=args.backend, tag=run_tag)
        agree = float(np.mean(trained.predictions == exported.predictions))
        report.update(n_test=int(len(labels)), backend=args.backend, trained_accuracy=trained.accuracy,
                      exported_accuracy=exported.accuracy, agreement=agree,
                      accuracy_change=exported.accuracy - trained.accuracy)
        what = "read back from the file" if args.to == "nir" else "fixed_pt models"
        print(f"trained network: {trained.accuracy:.4f}; exported network ({what}, {args.backend}): "
              f"{exported.accuracy:.4f} ({exported.accuracy - trained.accuracy:+.4f}); "
              f"same prediction on {agree:.2%} of {len(labels)} test images")
    if args.json:
        print(json.dumps(report))
    return 0


def cmd_evaluate_nir(args) -> int:
    """Run any NIR graph of supported primitives on Lava against MNIST."""
    from .data import load_dataset
    from .deploy import evaluate_deploy
    from .exporters.nir import from_nir, read_nir

    net = from_nir(read_nir(args.nir), dt=args.dt, t_steps=args.t_steps, max_rate=args.max_rate,
                   seed=args.seed)
    data = _data_arg(args.data)
    ds = load_dataset(data, download=args.download)
    images, labels = ds.test_images, ds.test_labels
    if args.n_test:
        images, labels = images[:args.n_test], labels[:args.n_test]
    if images.shape[1] != net.n_in:
        raise ValueError(f"the graph takes {net.n_in} inputs but the images have {images.shape[1]} pixels")
    res = evaluate_deploy(net, images, labels, backend=args.backend, tag=args.tag)
    print(f"{args.nir}: test accuracy {res.accuracy:.4f} ({int(np.trace(res.confusion))}/{len(labels)}) "
          f"on {data} [{args.backend}, dt = {net.dt} ms, {net.t_steps} steps per sample]")
    _print_confusion(res.confusion)
    return 0


def cmd_config(args) -> int:
    print(Config().dumps(), end="")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="MNIST folder with the IDX files, 'bundled' (the subset shipped with "
                   "the package) or 'cache' (~/.cache/lava-balanced/mnist); default: "
                   "$LAVA_BALANCED_DATA, else 'bundled'")
    p.add_argument("--download", action="store_true",
                   help="download missing MNIST files (md5-verified) into the data folder")
    p.add_argument("--backend", choices=("lava", "reference"), default="lava",
                   help="run on the Lava processes (default) or the numpy reference path")
    p.add_argument("--tag", choices=(TAG_ASYNC, TAG_SYNC), default=TAG_ASYNC,
                   help="Lava ProcessModel tag (default: %(default)s)")
    p.add_argument("--timeout", type=float, help="seconds before a Lava run is killed (default: generous bound)")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lava-balanced", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a Balanced SNN (Algorithm 1) and evaluate it")
    t.add_argument("--config", help="TOML configuration file (see 'lava-balanced config')")
    t.add_argument("--out", default="runs/latest", help="output folder (default: %(default)s)")
    t.add_argument("--hidden", type=int, help="hidden neurons (training.n_hidden)")
    t.add_argument("--epochs", type=int, help="passes over the training set")
    t.add_argument("--batch-size", type=int, help="samples per Lava time step")
    t.add_argument("--seed", type=int)
    t.add_argument("--n-train", type=int, help="use only the first N training samples (0: all)")
    t.add_argument("--n-test", type=int, help="use only the first N test samples (0: all)")
    t.add_argument("--p-inh", type=float, help="proportion of inhibitory hidden neurons")
    t.add_argument("--checkpoint-every", type=int, help="batches between checkpoints")
    t.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                   help="override any config value, e.g. --set learning.eta0=0.05 (repeatable)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    _common(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="accuracy and confusion matrix of a trained model")
    e.add_argument("model", help="model.npz written by 'train'")
    e.add_argument("--split", choices=("test", "train"), default="test")
    e.add_argument("--n-test", type=int, help="use only the first N test samples (0: all)")
    e.add_argument("--json", action="store_true", help="print the result as JSON")
    _common(e)
    e.set_defaults(func=cmd_evaluate)

    x = sub.add_parser("experiment", help="run one of the paper's experiments")
    x.add_argument("name", choices=("mp_curve", "stp", "inhibitory", "ablation", "table1"))
    x.add_argument("--out", default="docs/results", help="output folder (default: %(default)s)")
    x.add_argument("--quick", action="store_true", help="a small version (not a result)")
    x.add_argument("--config", help="TOML configuration file")
    x.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE")
    x.add_argument("--quiet", action="store_true")
    for flag in ("--hidden", "--epochs", "--batch-size", "--seed", "--n-train", "--n-test",
                 "--checkpoint-every"):
        x.add_argument(flag, type=int)
    x.add_argument("--p-inh", type=float)
    x.add_argument("--eval-every", type=int, metavar="BATCHES",
                   help="mp_curve only: batches between test points (default 50; 1 with --quick)")
    x.add_argument("--command-line", help=argparse.SUPPRESS)
    _common(x)
    x.set_defaults(func=cmd_experiment, backend="reference")

    ex = sub.add_parser("export", help="export a trained model to NIR or Loihi fixed point")
    ex.add_argument("model", help="model.npz written by 'train'")
    ex.add_argument("out", help="output file (.nir for NIR, .net for Loihi fixed point)")
    ex.add_argument("--to", choices=("nir", "loihi"), required=True)
    ex.add_argument("--stp", choices=("calibrated", "steady", "first"), default="calibrated",
                    help="how STP (eq. 7-9) becomes a fixed gain (docs/export.md; default: %(default)s)")
    ex.add_argument("--stp-rate", type=float, default=0.25,
                    help="presynaptic spikes per step for --stp steady (default: %(default)s)")
    ex.add_argument("--calibration", type=int, default=2000,
                    help="training images used by --stp calibrated (default: %(default)s)")
    ex.add_argument("--measure", action="store_true",
                    help="compare the exported network's test predictions with the trained network's")
    ex.add_argument("--n-test", type=int, help="with --measure: only the first N test images")
    ex.add_argument("--json", action="store_true", help="print a JSON summary")
    _common(ex)
    ex.set_defaults(func=cmd_export)

    en = sub.add_parser("evaluate-nir", help="run an NIR graph (from any framework) on Lava against MNIST")
    en.add_argument("nir", help="an .nir file: a feed-forward chain of Input, Linear, Affine, Scale, "
                    "LIF, CubaLIF, Output")
    en.add_argument("--dt", type=float, default=1.0, help="time step the graph is discretised at (default: 1.0)")
    en.add_argument("--t-steps", type=int, help="steps per sample (default: the graph's metadata, else 16)")
    en.add_argument("--max-rate", type=float, help="input spike probability at full intensity")
    en.add_argument("--seed", type=int, help="encoder seed")
    en.add_argument("--n-test", type=int, help="only the first N test images")
    _common(en)
    en.set_defaults(func=cmd_evaluate_nir)

    c = sub.add_parser("config", help="print the default configuration as TOML")
    c.set_defaults(func=cmd_config)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = make_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except (ConfigError, IDXError, FileNotFoundError, ValueError, LavaRunError) as exc:
        print(f"lava-balanced: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lava-balanced: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
