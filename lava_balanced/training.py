"""Training (Algorithm 1) and evaluation, on Lava or on the numpy reference.

Training runs in chunks of batches inside one isolated Lava job
(:func:`lava_balanced.runner.run_isolated`). Every ``checkpoint_every``
batches the weights are read back and written atomically to
``<out_dir>/checkpoint.npz`` together with the position reached; ``resume``
continues from there and, because every random draw is keyed by
``(seed, global batch)``, ends with exactly the weights an uninterrupted run
would have.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Union

import numpy as np

from . import kernels as K
from .config import Config
from .data import Dataset, load_dataset
from .lava_models import TAG_ASYNC
from .model import Weights, atomic_write_bytes, init_weights, save_model
from .reference import ReadoutStats, run_reference
from .runner import run_isolated

__all__ = ["TrainResult", "EvalResult", "train", "evaluate", "predict_reference",
           "load_checkpoint", "BACKENDS"]

BACKENDS = ("lava", "reference")
CHECKPOINT_NAME = "checkpoint.npz"
MODEL_NAME = "model.npz"


@dataclass
class EvalResult:
    accuracy: float
    confusion: np.ndarray
    predictions: Optional[np.ndarray] = None
    seconds: float = 0.0

    def to_dict(self) -> Dict[str, Any]:
        return {"accuracy": self.accuracy, "confusion": self.confusion.tolist(), "seconds": self.seconds}


@dataclass
class TrainResult:
    weights: Weights
    config: Config
    train_accuracy: float          #: on-line accuracy of the free phases during the last epoch
    test: Optional[EvalResult]
    seconds: float
    model_path: Optional[Path] = None
    history: list = field(default_factory=list)


# ---------------------------------------------------------------------------
def _schedule(cfg: Config, n: int, learning: bool, start_batch: int = 0, batch_size: Optional[int] = None) -> K.Schedule:
    e = cfg.encoding
    return K.Schedule(n_samples=n, batch_size=batch_size or cfg.training.batch_size, t_free=int(e.t_free),
                      t_nudge=int(e.t_nudge), learning=learning, seed=cfg.training.seed,
                      start_batch=start_batch, replay_input=e.replay_input,
                      symmetric=learning and cfg.learning.nudging == "symmetric")


def _default_timeout(steps: int, batch: int, n_hidden: int, reads: int) -> float:
    """A generous bound on a Lava job's wall time (measured rates are ~100x
    faster); it only exists so that nothing can hang forever."""
    per_step = 0.02 * max(1.0, batch / 64) * max(1.0, n_hidden / 100)
    return 300.0 + steps * per_step + 60.0 * reads


def _checkpoint_bytes(weights: Weights, cfg: Config, next_batch: int, confusion: np.ndarray,
                      history: list) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, w_in=weights.w_in, w_out=weights.w_out, hidden_sign=weights.hidden_sign,
             config=np.array(cfg.dumps()), next_batch=np.array(next_batch),
             confusion=confusion, history=np.array(json.dumps(history)))
    return buf.getvalue()


def load_checkpoint(path: Union[str, Path]):
    """``(weights, config, next_batch, confusion, history)`` from a checkpoint."""
    from .model import _toml_loads
    try:
        with np.load(path, allow_pickle=False) as f:
            w = Weights(f["w_in"], f["w_out"], f["hidden_sign"])
            cfg = Config.from_dict(_toml_loads(str(f["config"])))
            return w, cfg, int(f["next_batch"]), f["confusion"].astype(np.int64), json.loads(str(f["history"]))
    except Exception as exc:  # OSError, zipfile.BadZipFile, numpy's ValueError, ...
        raise ValueError(f"{path}: cannot read checkpoint ({type(exc).__name__}: {exc}); "
                         "corrupt or truncated") from exc


def _same_training(a: Config, b: Config) -> bool:
    da, db = a.to_dict(), b.to_dict()
    da["training"].pop("epochs"), db["training"].pop("epochs")
    da["training"].pop("checkpoint_every"), db["training"].pop("checkpoint_every")
    return da == db


# ---------------------------------------------------------------------------
def _lava_train_job(weights: Weights, cfg: Config, images, labels, start_batch: int, end_batch: int,
                    chunk: int, checkpoint_every: int, tag: str, report: Callable) -> Dict[str, Any]:
    """Runs inside the isolated child: trains from ``start_batch`` to
    ``end_batch`` in chunks, reporting progress and checkpoint weights."""
    from .network import BalancedNetwork  # imports Lava only in the child

    sched = _schedule(cfg, len(images), True, start_batch)
    net = BalancedNetwork(weights, cfg, images, labels, sched)
    g = start_batch
    last_ckpt = start_batch
    try:
        while g < end_batch:
            n = min(chunk, end_batch - g)
            net.run(n, tag)
            g += n
            confusion = net.confusion()
            msg = {"batch": g, "confusion": confusion}
            if checkpoint_every and (g - last_ckpt >= checkpoint_every) and g < end_batch:
                msg["weights"] = net.weights()
                last_ckpt = g
            report(msg)
        return {"weights": net.weights(), "confusion": net.confusion()}
    finally:
        net.stop()


def _lava_eval_job(weights: Weights, cfg: Config, images, labels, batch_size: int, tag: str,
                   report: Callable) -> Dict[str, Any]:
    from .network import BalancedNetwork

    sched = _schedule(cfg, len(images), False, 0, batch_size)
    net = BalancedNetwork(weights, cfg, images, labels, sched, record=True)
    try:
        net.run(sched.batches_per_epoch, tag)
        return {"confusion": net.confusion(), "predictions": net.predictions()}
    finally:
        net.stop()


def _resolve_data(data: Union[None, str, Path, Dataset], download: bool) -> Dataset:
    if isinstance(data, Dataset):
        return data
    return load_dataset(data if data is not None else "bundled", download=download)


def _limit(ds: Dataset, cfg: Config) -> Dataset:
    t = cfg.training
    return ds.subset(t.n_train or None, t.n_test or None)


def evaluate(weights: Weights, cfg: Config, data: Union[None, str, Path, Dataset] = None, *,
             split: str = "test", backend: str = "lava", tag: str = TAG_ASYNC,
             batch_size: Optional[int] = None, timeout: Optional[float] = None,
             download: bool = False, limit: bool = True) -> EvalResult:
    """Classify the ``split`` ("test" or "train") samples with the network's
    free phase only (Algorithm 1, step 3) and return accuracy, confusion
    matrix (rows: true class) and each sample's prediction."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if split not in ("test", "train"):
        raise ValueError(f"split must be 'test' or 'train', got {split!r}")
    weights.check()
    ds = _resolve_data(data, download)
    if limit:
        ds = _limit(ds, cfg)
    images, labels = (ds.test_images, ds.test_labels) if split == "test" else (ds.train_images, ds.train_labels)
    if len(images) == 0:
        raise ValueError(f"the {split} split is empty")
    batch = batch_size or max(cfg.training.batch_size, 100)
    t0 = time.time()
    if backend == "reference":
        sched = _schedule(cfg, len(images), False, 0, batch)
        preds = np.full(len(images), -1)
        stats = ReadoutStats(weights.n_output)
        _, stats = run_reference(weights, cfg, images, labels, sched, sched.batches_per_epoch, stats,
                                 predictions=preds)
        confusion, predictions = stats.confusion, preds
    else:
        steps = -(-len(images) // batch) * int(cfg.encoding.t_free)
        out = run_isolated(_lava_eval_job, weights, cfg, images, labels, batch, tag,
                           timeout=timeout or _default_timeout(steps, batch, weights.n_hidden, 2))
        confusion, predictions = out["confusion"], out["predictions"]
    return EvalResult(float(np.trace(confusion) / max(confusion.sum(), 1)), confusion, predictions,
                      time.time() - t0)


def train(cfg: Optional[Config] = None, data: Union[None, str, Path, Dataset] = None, *,
          out_dir: Union[None, str, Path] = None, resume: bool = False, backend: str = "lava",
          tag: str = TAG_ASYNC, evaluate_test: bool = True, progress: Optional[Callable[[dict], None]] = None,
          timeout: Optional[float] = None, download: bool = False,
          initial_weights: Optional[Weights] = None) -> TrainResult:
    """Train a Balanced SNN by Algorithm 1 and (optionally) evaluate it.

    Parameters
    ----------
    cfg : the configuration (defaults: :class:`Config`).
    data : ``"bundled"`` (default: the subset shipped with the package), a
        folder with the MNIST IDX files, or a :class:`Dataset`.
    out_dir : where ``checkpoint.npz`` and ``model.npz`` go (None: nowhere).
    resume : continue from ``out_dir/checkpoint.npz``.
    backend : ``"lava"`` (the Lava processes) or ``"reference"`` (numpy).
    tag : Lava model tag, ``"floating_pt_async"`` or ``"floating_pt"``.
    progress : called with ``{"batch", "total", "train_accuracy", ...}``.
    """
    cfg = (cfg or Config()).validate()
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    ds = _limit(_resolve_data(data, download), cfg)
    images, labels = ds.train_images, ds.train_labels
    B = cfg.training.batch_size
    if len(images) < B:
        raise ValueError(f"{len(images)} training samples are fewer than one batch of {B}")
    per_epoch = len(images) // B
    total = per_epoch * cfg.training.epochs
    out_dir = Path(out_dir) if out_dir is not None else None
    ckpt_path = out_dir / CHECKPOINT_NAME if out_dir else None

    weights = initial_weights.copy() if initial_weights is not None else init_weights(cfg, images.shape[1])
    start, confusion, history = 0, np.zeros((weights.n_output,) * 2, dtype=np.int64), []
    if resume:
        if ckpt_path is None or not ckpt_path.exists():
            raise FileNotFoundError(f"cannot resume: no checkpoint at {ckpt_path}")
        weights, ck_cfg, start, confusion, history = load_checkpoint(ckpt_path)
        if not _same_training(ck_cfg, cfg):
            raise ValueError(f"{ckpt_path} was written with a different configuration; "
                             "resume needs the same one (epochs may differ)")
        if cfg.learning.lr_anneal and ck_cfg.training.epochs != cfg.training.epochs:
            raise ValueError(f"{ckpt_path} was written for {ck_cfg.training.epochs} epochs; with "
                             "learning.lr_anneal the rate schedule depends on training.epochs, so resume "
                             f"needs the same number (got {cfg.training.epochs})")
    if start >= total:
        raise ValueError(f"checkpoint is at batch {start}, training has only {total} batches")

    def on_progress(msg: Dict[str, Any]) -> None:
        g = msg["batch"]
        conf = msg["confusion"] + confusion if backend == "lava" else msg["confusion"]
        if "weights" in msg and ckpt_path is not None:
            atomic_write_bytes(ckpt_path, _checkpoint_bytes(msg["weights"], cfg, g, conf, history))
        acc = float(np.trace(conf) / max(conf.sum(), 1))
        history.append({"batch": g, "train_accuracy": acc})
        if progress is not None:
            progress({"batch": g, "total": total, "train_accuracy": acc,
                      "checkpoint": "weights" in msg and ckpt_path is not None})

    if progress is not None:  # the starting point, before Lava compiles and starts
        progress({"batch": start, "total": total, "train_accuracy": float(np.trace(confusion) / max(confusion.sum(), 1)),
                  "checkpoint": False})
    t0 = time.time()
    chunk = max(1, min(cfg.training.checkpoint_every or per_epoch, per_epoch, 50))
    ckpt_every = cfg.training.checkpoint_every or per_epoch
    if backend == "reference":
        w, g, last_ckpt = weights, start, start
        stats = ReadoutStats(weights.n_output, confusion.copy())
        while g < total:
            n = min(chunk, total - g)
            sched = _schedule(cfg, len(images), True, g)
            w, stats = run_reference(w, cfg, images, labels, sched, n, stats)
            g += n
            msg = {"batch": g, "confusion": stats.confusion.copy()}
            if g - last_ckpt >= ckpt_every and g < total:
                msg["weights"], last_ckpt = w, g
            on_progress(msg)
        weights, confusion = w, stats.confusion
    else:
        steps = (total - start) * _schedule(cfg, len(images), True, start).cycle
        reads = 2 + (total - start) // max(ckpt_every, 1)
        out = run_isolated(_lava_train_job, weights, cfg, images, labels, start, total, chunk,
                           ckpt_every, tag, on_progress=on_progress,
                           timeout=timeout or _default_timeout(steps, B, weights.n_hidden, reads))
        weights, confusion = out["weights"], out["confusion"] + confusion
    seconds = time.time() - t0
    train_acc = float(np.trace(confusion) / max(confusion.sum(), 1))

    test = None
    if evaluate_test and len(ds.test_images):
        test = evaluate(weights, cfg, ds, backend=backend, tag=tag, limit=False)
    model_path = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        model_path = out_dir / MODEL_NAME
        meta = {"train_seconds": seconds, "train_accuracy_online": train_acc, "backend": backend,
                "n_train": int(len(images)), "data": ds.source, "batches": total}
        if test is not None:
            meta.update(test_accuracy=test.accuracy, n_test=int(test.confusion.sum()))
        save_model(model_path, weights, cfg, meta)
        (out_dir / "config.toml").write_text(cfg.dumps())
        if ckpt_path is not None and ckpt_path.exists():
            ckpt_path.unlink()  # training finished: the model file supersedes it
    return TrainResult(weights, cfg, train_acc, test, seconds, model_path, history)


def predict_reference(weights: Weights, cfg: Config, images: np.ndarray) -> np.ndarray:
    """Predictions of the numpy reference path for ``images`` (no labels
    needed)."""
    labels = np.zeros(len(images), dtype=np.int64)
    sched = _schedule(cfg, len(images), False, 0, max(cfg.training.batch_size, 100))
    preds = np.full(len(images), -1)
    run_reference(weights, cfg, images, labels, sched, sched.batches_per_epoch, predictions=preds)
    return preds
