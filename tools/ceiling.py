"""What the 784-H-10 architecture can reach at all: a diagnostic, not the model.

    python tools/ceiling.py --data ../shared/data/mnist --epochs 10 [--signed-input] [--anneal] [--out FILE.json]

Trains a *rate abstraction* of the Balanced SNN with backpropagation (which
the Balanced SNN itself never uses) under the same structural constraints:
non-negative input weights (the paper's input layer is excitatory), hidden
rates ``clip(sum_j w_ji x_j - V_th, 0, 1)`` with the fixed threshold
``V_th = 1`` and no bias (a spike per step at most), a proportion ``p_inh`` of
hidden neurons whose output weights are <= 0 and the rest >= 0 (Dale's law),
and a softmax cross-entropy (``--loss ce``), the squared error of eq. 10
(``--loss mse``) or its one-sided form (``--loss hinge``) as the cost. Train on the first 50,000 training images, report the
accuracy on the last 10,000 (the validation split of ``tools/validate.py``).

The number bounds what a local rule can be expected to reach with these
constraints; ``--signed-input`` lifts the first one to show its cost.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lava_balanced.data import load_dataset  # noqa: E402


LOSSES = ("ce", "mse", "hinge")


def fit(x_tr, y_tr, x_va, y_va, hidden=100, p_inh=0.3, epochs=10, lr=0.5, signed_input=False,
        seed=0, on_epoch=None, loss="ce", decay=1.0, anneal=False):
    """Minibatch (64) gradient descent of the rate abstraction, with the
    constraints projected back after every step. ``loss`` is ``"ce"`` (softmax
    cross-entropy), ``"mse"`` (the squared error between the outputs and the
    one-hot target: the cost of eq. 10) or ``"hinge"`` (that error only on
    the wrong side of each target, as ``learning.supervision =
    "one_sided"``). The rate of epoch ``e`` (from 0) is ``lr / (1 + decay *
    e)``; with ``anneal`` it is also multiplied by ``1 - k / K`` at the
    ``k``-th of all ``K`` minibatches (from 0), falling linearly towards zero
    as the Balanced SNN's ``learning.lr_anneal`` does. Returns ``(w_in, w_out, validation accuracy per
    epoch)``."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    rng = np.random.default_rng(seed)
    sign = np.where(np.arange(hidden) < int(round(p_inh * hidden)), -1.0, 1.0).astype(np.float32)[:, None]
    shape = (x_tr.shape[1], hidden)
    w = (rng.normal(0, 0.05, shape) if signed_input else rng.uniform(0, 0.02, shape)).astype(np.float32)
    v = (rng.uniform(0, 0.1, (hidden, 10)) * sign).astype(np.float32)

    def forward(x):
        a = x @ w
        return a, np.clip(a - 1.0, 0.0, 1.0)

    curve = []
    n_batches = max(1, len(x_tr) // 64)
    k, total = 0, epochs * n_batches
    for epoch in range(epochs):
        for i in np.array_split(rng.permutation(len(x_tr)), n_batches):
            rate = lr / (1 + decay * epoch) * ((1 - k / total) if anneal else 1.0)
            k += 1
            a, h = forward(x_tr[i])
            d = h @ v
            if loss == "ce":
                d = np.exp(d - d.max(1, keepdims=True))
                d /= d.sum(1, keepdims=True)
            target = np.zeros_like(d)
            target[np.arange(len(i)), y_tr[i]] = 1.0
            if loss == "hinge":  # below a target of 1, above a target of 0
                d = np.where(((target > 0) & (d < 1.0)) | ((target == 0) & (d > 0.0)), d - target, 0.0)
            else:
                d -= target
            d /= len(i)
            dh = (d @ v.T) * ((a > 1.0) & (a < 2.0))
            v -= rate * (h.T @ d)
            w -= rate * (x_tr[i].T @ dh)
            if not signed_input:
                np.maximum(w, 0.0, out=w)
            v[:] = np.where(sign > 0, np.maximum(v, 0.0), np.minimum(v, 0.0))
        curve.append(round(float(((forward(x_va)[1] @ v).argmax(1) == y_va).mean()), 4))
        if on_epoch is not None:
            on_epoch(epoch, curve[-1])
    return w, v, curve


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--p-inh", type=float, default=0.3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.5)
    ap.add_argument("--decay", type=float, default=1.0, help="the rate of epoch e is lr / (1 + decay * e)")
    ap.add_argument("--anneal", action="store_true",
                    help="also multiply the rate by 1 - k / K at minibatch k of K (linearly towards zero)")
    ap.add_argument("--n-train", type=int, default=50000, help="train on the first N (at most 50,000)")
    ap.add_argument("--signed-input", action="store_true")
    ap.add_argument("--loss", choices=LOSSES, default="ce",
                    help="softmax cross-entropy, the squared error of eq. 10, or its one-sided form")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write the result as JSON here")
    args = ap.parse_args(argv)

    ds = load_dataset(args.data)
    if len(ds.train_images) <= 50000:
        raise SystemExit(f"ceiling.py needs the full MNIST (60,000 training images), {ds.source} has "
                         f"{len(ds.train_images)}")
    n = min(args.n_train, 50000)
    x_tr, y_tr = ds.train_images[:n].astype(np.float32) / 255, ds.train_labels[:n]
    x_va, y_va = ds.train_images[50000:].astype(np.float32) / 255, ds.train_labels[50000:]
    _, _, curve = fit(x_tr, y_tr, x_va, y_va, args.hidden, args.p_inh, args.epochs, args.lr,
                      args.signed_input, args.seed,
                      lambda e, acc: print(f"epoch {e + 1}: validation {acc:.4f}", flush=True), args.loss,
                      args.decay, args.anneal)
    result = {"command": "python tools/ceiling.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "hidden": args.hidden, "p_inh": args.p_inh, "signed_input": args.signed_input, "loss": args.loss,
              "n_train": n, "epochs": args.epochs, "lr": args.lr, "decay": args.decay,
              "anneal": args.anneal, "validation": curve, "best": max(curve)}
    print(json.dumps(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
