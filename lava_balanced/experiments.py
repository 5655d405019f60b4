"""The paper's experiments, one command each: ``lava-balanced experiment NAME``.

Each experiment writes ``<out>/<name>.csv`` (the measured table),
``<out>/<name>.json`` (the table with the command, configuration and
timing) and ``<out>/<name>.png`` (the figure), by default under
``docs/results/``. ``--quick`` runs a small version (a subset, a few
batches) that the test suite executes so the commands cannot rot; its numbers
are not results.

Available:

* ``mp_curve`` (paper Fig. 3): training and test accuracy against the
  iteration for the "MP only" network (the ablation's row) and the full
  model, 100 hidden, recorded every 50 batches on the first 2,000 test
  images, plus the final accuracy on the whole test set.
* ``stp`` (paper Fig. 6): u and x of the Tsodyks-Markram synapse (eq. 7-8)
  under regular presynaptic spike trains of several rates, and the resulting
  synaptic current (eq. 9): how STP keeps I_syn in a narrow band across
  rates.
* ``inhibitory`` (paper Fig. 4-5): test accuracy against the proportion of
  inhibitory hidden neurons, 0 % to 100 % in steps of 10 %.
* ``table1`` (paper Table 1): 100 and 6,400 hidden neurons, with training
  time and peak memory.
* ``ablation`` (paper Fig. 7): MP only; MP + feed-forward LIF; MP + FF + STP
  + 30 % inhibitory neurons (see :data:`ABLATION` for the reading).

Training experiments run on the numpy reference path by default (it ends
training with the same weights as the Lava processes, bit for bit, as
``tests/test_processes.py`` checks); ``--backend lava`` runs them in Lava.
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np

from . import equations as eq
from .config import Config
from .data import Dataset, load_dataset

__all__ = ["EXPERIMENTS", "run_experiment", "mp_curve_experiment", "stp_experiment", "inhibitory_experiment"]


def _write(out: Path, name: str, header: List[str], rows: List[list], meta: Dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{name}.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    (out / f"{name}.json").write_text(json.dumps({**meta, "columns": header, "rows": rows}, indent=1) + "\n")


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


# ---------------------------------------------------------------------------
def stp_experiment(cfg: Config, out: Path, quick: bool = False, **_) -> Dict:
    """Fig. 6: u, x and the synaptic current under regular spike trains.

    A single synapse of weight 1 receives a regular train at each rate for
    ``duration`` ms (dt from the config); u, x and the release u x are
    recorded every step, and the current ``I_syn`` of eq. 9 is integrated
    with ``tau_s``. The table lists, per rate, the steady-state u*, x* (the
    analytic values of ``equations.stp_steady_state`` next to the simulated
    ones) and the mean current, with and without STP.
    """
    s, n = cfg.synapse, cfg.neuron
    dt = n.dt
    rates_hz = [5, 10, 20, 50, 100, 200] if not quick else [10, 100]
    duration = 1000.0
    steps = int(duration / dt)
    df, dd, ds = math.exp(-dt / s.tau_f), math.exp(-dt / s.tau_d), math.exp(-dt / s.tau_s)
    rows, traces = [], {}
    for rate in rates_hz:
        isi = max(1, int(round(1000.0 / rate / dt)))
        u, x, i_stp, i_plain = np.zeros((1, 1)), np.ones((1, 1)), 0.0, 0.0
        rec = np.zeros((steps, 4))
        for t in range(steps):
            spike = np.array([[t % isi == 0]])
            u, x, release = eq.stp_step(u, x, spike, s.U, df, dd)
            i_stp = i_stp * ds + s.A * float(release[0, 0])
            i_plain = i_plain * ds + float(spike[0, 0])
            rec[t] = (u[0, 0], x[0, 0], i_stp, i_plain)
        traces[rate] = rec
        u_star, x_star = eq.stp_steady_state(isi, s.U, df, dd)
        last = (steps - 1) // isi * isi  # the last spike
        half = steps // 2
        rows.append([rate, isi * dt, round(u_star, 6), round(float(rec[last, 0]), 6), round(x_star, 6),
                     round(float(rec[last, 1] / (1 - rec[last, 0])), 6),
                     round(float(rec[half:, 2].mean()), 6), round(float(rec[half:, 3].mean()), 6)])
    header = ["rate_hz", "isi_ms", "u_star_analytic", "u_star_simulated", "x_star_analytic",
              "x_star_simulated", "mean_I_syn_stp", "mean_I_syn_without_stp"]
    plt = _plt()
    fig, axes = plt.subplots(3, 1, figsize=(7.5, 8), sharex=True)
    time_ms = np.arange(steps) * dt
    for rate, rec in traces.items():
        axes[0].plot(time_ms, rec[:, 0], label=f"{rate} Hz")
        axes[1].plot(time_ms, rec[:, 1], label=f"{rate} Hz")
        axes[2].plot(time_ms, rec[:, 0] * rec[:, 1] * s.A, label=f"{rate} Hz")
    axes[0].set_ylabel("u (facilitation)")
    axes[1].set_ylabel("x (resources)")
    axes[2].set_ylabel("A u x (release per spike)")
    axes[2].set_xlabel("time (ms)")
    axes[0].legend(ncol=3, fontsize=8)
    axes[0].set_title(f"STP, eq. 7-9: U={s.U}, tau_f={s.tau_f} ms, tau_d={s.tau_d} ms, A={s.A}")
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "stp.png", dpi=110)
    plt.close(fig)
    meta = {"experiment": "stp", "paper": "Fig. 6", "quick": quick, "synapse": cfg.to_dict()["synapse"],
            "dt_ms": dt, "duration_ms": duration}
    _write(out, "stp", header, rows, meta)
    return {"header": header, "rows": rows}


# ---------------------------------------------------------------------------
def inhibitory_experiment(cfg: Config, out: Path, quick: bool = False, data=None, backend: str = "reference",
                          progress: Optional[Callable[[str], None]] = None, **_) -> Dict:
    """Fig. 4-5: test accuracy against the proportion of inhibitory hidden
    neurons (0 % to 100 %, step 10 %), everything else at the configuration's
    values. One training run per proportion, same seed."""
    from .training import train

    ds = data if isinstance(data, Dataset) else load_dataset(data or "bundled")
    props = [round(0.1 * k, 1) for k in range(11)] if not quick else [0.0, 0.3, 1.0]
    if quick:
        cfg = cfg.override(**{"training.n_train": 256, "training.n_test": 100, "training.n_hidden": 20,
                              "encoding.t_free": 6, "encoding.t_nudge": 6})
    rows = []
    for p in props:
        c = cfg.override(**{"training.p_inh": p})
        t0 = time.time()
        res = train(c, ds, backend=backend)
        rows.append([p, round(res.test.accuracy, 4), round(res.train_accuracy, 4), round(time.time() - t0, 1)])
        if progress:
            progress(f"p_inh={p:.1f}: test accuracy {res.test.accuracy:.4f}")
    header = ["p_inh", "test_accuracy", "train_accuracy_online", "seconds"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.plot([100 * r[0] for r in rows], [r[1] for r in rows], "o-", label="measured (test)")
    ax.axhline(0.1, color="grey", ls=":", label="chance")
    ax.set_xlabel("inhibitory hidden neurons (%)")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title(f"E-I balance (paper Fig. 4-5), 784-{cfg.training.n_hidden}-10, "
                 f"{cfg.training.epochs} epoch(s)")
    ax.legend()
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "inhibitory.png", dpi=110)
    plt.close(fig)
    meta = {"experiment": "inhibitory", "paper": "Fig. 4-5", "quick": quick, "backend": backend,
            "data": ds.source, "n_train": int(len(ds.train_images) if not cfg.training.n_train else cfg.training.n_train),
            "config": cfg.to_dict()}
    _write(out, "inhibitory", header, rows, meta)
    return {"header": header, "rows": rows}


#: The paper's Fig. 7 rows read as configurations (docs/model.md): "MP only"
#: keeps membrane-potential balance and consolidation but drops the
#: feed-forward LIF dynamics of eq. 1 (tau_m -> 0: a neuron's potential is its
#: present input, nothing is integrated over time, like the paper's non-LIF
#: input units), STP and the inhibitory neurons; "MP + FF LIF" restores the
#: leaky integration (the configured tau_m); the last row is the full model.
ABLATION = [
    ("MP only", 0.58, {"neuron.tau_m": 0.01, "synapse.stp": False, "training.p_inh": 0.0}),
    ("MP + FF LIF", 0.89, {"synapse.stp": False, "training.p_inh": 0.0}),
    ("MP + FF + STP + 30% inh.", 0.979, {"synapse.stp": True, "training.p_inh": 0.3}),
]


def ablation_experiment(cfg: Config, out: Path, quick: bool = False, data=None, backend: str = "reference",
                        progress: Optional[Callable[[str], None]] = None, **_) -> Dict:
    """Fig. 7: the rules added one group at a time, same seed and budget
    (the configuration's epochs); the paper's numbers beside the measured
    ones."""
    from .training import train

    ds = data if isinstance(data, Dataset) else load_dataset(data or "bundled")
    if quick:
        cfg = cfg.override(**{"training.n_train": 256, "training.n_test": 100, "training.n_hidden": 20,
                              "encoding.t_free": 6, "encoding.t_nudge": 6})
    rows = []
    for name, paper, over in ABLATION:
        t0 = time.time()
        res = train(cfg.override(**over), ds, backend=backend)
        rows.append([name, paper, round(res.test.accuracy, 4), round(time.time() - t0, 1)])
        if progress:
            progress(f"{name}: test accuracy {res.test.accuracy:.4f} (paper {paper})")
    header = ["variant", "paper_accuracy", "test_accuracy", "seconds"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    y = np.arange(len(rows))
    ax.barh(y + 0.2, [r[2] for r in rows], height=0.4, label="measured")
    ax.barh(y - 0.2, [r[1] for r in rows], height=0.4, label="paper (Fig. 7)", alpha=0.6)
    ax.set_yticks(y)
    ax.set_yticklabels([r[0] for r in rows])
    ax.set_xlabel("test accuracy")
    ax.set_xlim(0, 1)
    ax.legend(loc="lower right")
    ax.set_title(f"Ablation (paper Fig. 7), 784-{cfg.training.n_hidden}-10, {cfg.training.epochs} epoch(s)")
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "ablation.png", dpi=110)
    plt.close(fig)
    meta = {"experiment": "ablation", "paper": "Fig. 7", "quick": quick, "backend": backend,
            "data": ds.source, "variants": {n: o for n, _, o in ABLATION}, "config": cfg.to_dict()}
    _write(out, "ablation", header, rows, meta)
    return {"header": header, "rows": rows}


#: Fig. 3 plots the "MP balance only" network; it is read as the ablation's
#: "MP only" row (:data:`ABLATION`), and the full model (the ablation's last
#: row, the configuration's defaults) is trained beside it for comparison.
MP_CURVE_VARIANTS = ("MP only", "MP + FF + STP + 30% inh.")


def _ablation_variant(name: str):
    """``(paper_accuracy, overrides)`` of the :data:`ABLATION` row ``name``."""
    for n, paper, over in ABLATION:
        if n == name:
            return paper, over
    raise KeyError(name)


def _curve_run(cfg: Config, ds: Dataset, n_eval: int, every: int,
               progress: Optional[Callable[[str], None]], label: str):
    """Train ``cfg`` on ``ds`` with the reference path in chunks of ``every``
    batches (each chunk's network begins at the global batch the previous one
    reached, so the run is exactly :func:`training.train`'s) and after each
    chunk classify the first ``n_eval`` test images. Returns the curve rows
    ``[batch, images_seen, train_window, train_cumulative, test_subset,
    train_seconds]``, the final weights and the training/evaluation times."""
    from .model import init_weights
    from .reference import ReadoutStats, run_reference
    from .training import _schedule, evaluate

    cfg = cfg.validate()
    images, labels = ds.train_images, ds.train_labels
    B = cfg.training.batch_size
    total = len(images) // B * cfg.training.epochs
    probe = ds.subset(0, n_eval)
    w = init_weights(cfg, images.shape[1])
    stats = ReadoutStats(w.n_output)
    t_train = t_eval = 0.0

    def test_acc(weights) -> float:
        nonlocal t_eval
        t0 = time.time()
        acc = evaluate(weights, cfg, probe, split="test", backend="reference", limit=False).accuracy
        t_eval += time.time() - t0
        return acc

    rows = [[0, 0, None, None, round(test_acc(w), 4), 0.0]]
    g, seen, correct = 0, 0, 0
    while g < total:
        n = min(every, total - g)
        t0 = time.time()
        w, stats = run_reference(w, cfg, images, labels, _schedule(cfg, len(images), True, g), n, stats)
        t_train += time.time() - t0
        g += n
        win = (stats.n_correct - correct) / max(stats.n_seen - seen, 1)
        seen, correct = stats.n_seen, stats.n_correct
        rows.append([g, g * B, round(win, 4), round(stats.accuracy, 4), round(test_acc(w), 4),
                     round(t_train, 1)])
        if progress:
            progress(f"{label}: batch {g}/{total}: train (last {n} batches) {win:.4f}, "
                     f"test ({len(probe.test_images)} images) {rows[-1][4]:.4f}")
    return rows, w, t_train, t_eval


def _plot_mp_curve(out: Path, curves: Dict[str, list], final: Dict[str, dict], n_eval: int, cfg: Config) -> None:
    """The Fig. 3 plot from :func:`mp_curve_experiment`'s rows (per variant:
    ``[batch, images_seen, train_window, train_cumulative, test_subset, s]``)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10.5, 4.8))
    colours = {MP_CURVE_VARIANTS[0]: "C0", MP_CURVE_VARIANTS[1]: "C1"}
    for name, rs in curves.items():
        col = colours[name]
        tr = [(r[0], 100 * r[2]) for r in rs if r[2] is not None]
        ax.plot([b for b, _ in tr], [a for _, a in tr], "--", color=col, label=f"{name}: train (on-line)")
        ax.plot([r[0] for r in rs], [100 * r[4] for r in rs], "-o", ms=3, color=col,
                label=f"{name}: test (first {n_eval} images)")
        ax.plot([rs[-1][0]], [100 * final[name]["test_accuracy_full"]], "*", ms=12, color=col,
                label=f"{name}: final, full test set ({100 * final[name]['test_accuracy_full']:.1f} %)")
    ax.axhline(58, color="C0", ls=":", lw=1, label="paper, MP only at 100 iterations (Fig. 7): 58 %")
    ax.axhline(90, color="grey", ls=":", lw=1, label="paper, MP only after 20 iterations (Fig. 3): ~90 %")
    ax.axhline(10, color="black", ls=":", lw=0.8, label="chance")
    ax.set_xlabel(f"iteration (batches of {cfg.training.batch_size} images)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"MP balance only vs full model (paper Fig. 3), 784-{cfg.training.n_hidden}-10, "
                 f"{cfg.training.epochs} epoch(s)", fontsize=10)
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "mp_curve.png", dpi=110)
    plt.close(fig)


def mp_curve_experiment(cfg: Config, out: Path, quick: bool = False, data=None, backend: str = "reference",
                        progress: Optional[Callable[[str], None]] = None, eval_every: Optional[int] = None,
                        **_) -> Dict:
    """Fig. 3: MP balance only, 100 hidden: training and test accuracy
    against the iteration (batches of ``batch_size`` images).

    The "MP only" network (the :data:`ABLATION` row of that name) and the
    full model are trained for the configuration's epochs on the numpy
    reference path; every ``every`` batches the on-line accuracy of the free
    phases (over those batches and since the start) and the accuracy on the
    first ``n_eval`` test images are recorded (``eval_every`` sets ``every``:
    50 batches by default, 1 in the quick mode; a longer run can take fewer
    points); at the end the whole test set is classified. The curve needs the weights in the middle of training, so
    it always runs on the reference path (which ends with the Lava network's
    weights, bit for bit)."""
    from .training import evaluate

    ds = data if isinstance(data, Dataset) else load_dataset(data or "bundled")
    if quick:
        cfg = cfg.override(**{"training.n_train": 256, "training.n_test": 100, "training.n_hidden": 20,
                              "encoding.t_free": 6, "encoding.t_nudge": 6})
        every, n_eval = 1, 50
    else:
        every, n_eval = 50, 2000
    if eval_every is not None:
        if int(eval_every) < 1:
            raise ValueError(f"eval_every must be a positive number of batches, got {eval_every!r}")
        every = int(eval_every)
    t = cfg.training
    ds = ds.subset(t.n_train or None, t.n_test or None)
    n_eval = min(n_eval, len(ds.test_images))
    header = ["variant", "batch", "images_seen", "train_accuracy_window", "train_accuracy_cumulative",
              "test_accuracy_subset", "train_seconds"]
    rows, final, curves = [], {}, {}
    for name in MP_CURVE_VARIANTS:
        paper, over = _ablation_variant(name)
        c = cfg.override(**over)
        rs, w, t_train, t_eval = _curve_run(c, ds, n_eval, every, progress, name)
        t0 = time.time()
        full = evaluate(w, c, ds, split="test", backend="reference", limit=False)
        final[name] = {"overrides": over, "paper_fig7_accuracy": paper, "test_accuracy_full": round(full.accuracy, 4),
                       "n_test_full": int(full.confusion.sum()), "train_accuracy_online_last_epoch": rs[-1][3],
                       "train_seconds": round(t_train, 1), "probe_eval_seconds": round(t_eval, 1),
                       "full_eval_seconds": round(time.time() - t0, 1)}
        if progress:
            progress(f"{name}: final test accuracy {full.accuracy:.4f} on {int(full.confusion.sum())} images "
                     f"(paper Fig. 7: {paper})")
        curves[name] = rs
        rows += [[name] + r for r in rs]

    _plot_mp_curve(out, curves, final, n_eval, cfg)
    meta = {"experiment": "mp_curve", "paper": "Fig. 3", "quick": quick, "backend": "reference",
            "backend_requested": backend, "data": ds.source, "n_train": int(len(ds.train_images)),
            "batches_per_epoch": int(len(ds.train_images) // cfg.training.batch_size),
            "eval_every_batches": every,
            "test_subset": f"the first {n_eval} test images (fixed), classified after every {every} batches",
            "seed": cfg.training.seed,
            "train_accuracy_window": "on-line accuracy of the free phases over the batches since the previous row",
            "train_accuracy_cumulative": "on-line accuracy of the free phases since the start of training",
            "paper_reference": {"Fig. 3 (MP only, iterations 0-20)": "rises to about 0.9 train and test",
                                "Fig. 7 (MP only, 100 iterations)": 0.58},
            "variants": {n: _ablation_variant(n)[1] for n in MP_CURVE_VARIANTS},
            "final": final, "config": cfg.to_dict()}
    _write(out, "mp_curve", header, rows, meta)
    return {"header": header, "rows": rows, "final": final}


def scaled_for_hidden(cfg: Config, n_hidden: int, reference: int = 100) -> Config:
    """The configuration for ``n_hidden`` neurons with the per-neuron
    magnitudes of the ``reference``-neuron one: an output neuron sums over
    all hidden neurons, so the hidden -> output weights, their learning rate
    and the top-down term each hidden neuron receives (which passes through
    those weights) are rescaled by ``reference / n_hidden``; the input
    synapses keep their learning rate."""
    k = reference / n_hidden
    l = cfg.learning
    return cfg.override(**{"training.n_hidden": n_hidden, "learning.init_out": l.init_out * k,
                           "learning.eta0": l.eta0 * k, "learning.lr_hidden_scale": l.lr_hidden_scale / k,
                           "learning.eta_mp": l.eta_mp / k})


def table1_experiment(cfg: Config, out: Path, quick: bool = False, data=None, backend: str = "reference",
                      progress: Optional[Callable[[str], None]] = None, **_) -> Dict:
    """Table 1: test accuracy with 100 and 6,400 hidden neurons, with the
    training time and the process's peak resident memory."""
    import resource

    from .training import train

    ds = data if isinstance(data, Dataset) else load_dataset(data or "bundled")
    sizes = [(100, 0.979), (6400, 0.9864)] if not quick else [(10, 0.979), (40, 0.9864)]
    if quick:
        cfg = cfg.override(**{"training.n_train": 256, "training.n_test": 100,
                              "encoding.t_free": 6, "encoding.t_nudge": 6})
    rows = []
    for n_hidden, paper in sizes:
        c = scaled_for_hidden(cfg, n_hidden, 100 if not quick else 10)
        t0 = time.time()
        res = train(c, ds, backend=backend)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append([n_hidden, paper, round(res.test.accuracy, 4), round(res.seconds, 1),
                     round(time.time() - t0, 1), round(peak_mib, 1)])
        if progress:
            progress(f"{n_hidden} hidden: test accuracy {res.test.accuracy:.4f} (paper {paper}), "
                     f"{res.seconds:.0f} s training, peak RSS {peak_mib:.0f} MiB")
    header = ["n_hidden", "paper_accuracy", "test_accuracy", "train_seconds", "total_seconds", "peak_rss_mib"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r[1] for r in rows], width=0.4, label="paper (Table 1)", alpha=0.6)
    ax.bar(x + 0.2, [r[2] for r in rows], width=0.4, label="measured")
    ax.set_xticks(x)
    ax.set_xticklabels([f"{r[0]} hidden" for r in rows])
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.legend(loc="lower right")
    ax.set_title(f"Table 1, {cfg.training.epochs} epoch(s)")
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "table1.png", dpi=110)
    plt.close(fig)
    meta = {"experiment": "table1", "paper": "Table 1", "quick": quick, "backend": backend, "data": ds.source,
            "config": cfg.to_dict(), "scaling": scaled_for_hidden.__doc__.split("\n\n")[0]}
    _write(out, "table1", header, rows, meta)
    return {"header": header, "rows": rows}


EXPERIMENTS = {"mp_curve": mp_curve_experiment, "stp": stp_experiment, "inhibitory": inhibitory_experiment, "ablation": ablation_experiment,
               "table1": table1_experiment}


def run_experiment(name: str, cfg: Optional[Config] = None, out="docs/results", quick: bool = False,
                   data=None, backend: str = "reference", progress=None, command: str = "",
                   eval_every: Optional[int] = None) -> Dict:
    """Run experiment ``name`` (see :data:`EXPERIMENTS`) and write its files;
    ``command`` (the command line that ran it) is recorded in the JSON.
    ``eval_every`` (batches between test points) applies to ``mp_curve`` only."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; available: {', '.join(sorted(EXPERIMENTS))}")
    extra = {}
    if eval_every is not None:
        if name != "mp_curve":
            raise ValueError(f"eval_every applies to the mp_curve experiment only, not {name!r}")
        extra["eval_every"] = eval_every
    t0 = time.time()
    out = Path(out)
    result = EXPERIMENTS[name](cfg or Config(), out, quick=quick, data=data, backend=backend,
                               progress=progress, **extra)
    result["seconds"] = time.time() - t0
    meta_path = out / f"{name}.json"
    meta = json.loads(meta_path.read_text())
    meta.update(command=command, seconds=round(result["seconds"], 1))
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return result
