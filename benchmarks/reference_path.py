"""Training time of the numpy reference path per batch, with the replayed
nudged phase reusing the free phase's input drive (the default) against
recomputing it, measured in the same process run.

    python benchmarks/reference_path.py [--data DIR] [--hidden 100 6400] [--batches 8] [--repeats 3] \
        [--config configs/best-100.toml] [--out docs/benchmarks-reference.json]

For every hidden-layer size the configuration is rescaled as Table 1 rescales
it (``experiments.scaled_for_hidden``). Each measurement trains ``--batches``
batches of 64 MNIST training images from the same initial weights, after one
warm-up batch; the median of ``--repeats`` runs and the range are reported,
and the ratio divides the recomputing median by the reusing one. Both end
with the same weights (checked here, and in tests/test_processes.py). Nothing
here is a test: it reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lava_balanced.config import Config  # noqa: E402
from lava_balanced.data import load_bundled, load_mnist  # noqa: E402
from lava_balanced.experiments import scaled_for_hidden  # noqa: E402
from lava_balanced.model import init_weights  # noqa: E402
from lava_balanced.reference import run_reference  # noqa: E402
from lava_balanced.training import _schedule  # noqa: E402


def _time(weights, cfg, images, labels, n_batches, reuse):
    n = len(images)
    run_reference(weights, cfg, images, labels, _schedule(cfg, n, True), 1, reuse_input_drive=reuse)  # warm-up
    t0 = time.perf_counter()
    w, _ = run_reference(weights, cfg, images, labels, _schedule(cfg, n, True, 1), n_batches,
                         reuse_input_drive=reuse)
    return (time.perf_counter() - t0) / n_batches, w


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="MNIST folder (default: the bundled subset)")
    ap.add_argument("--config", default=None, help="TOML configuration (default: the defaults)")
    ap.add_argument("--hidden", type=int, nargs="+", default=[100, 6400])
    ap.add_argument("--batches", type=int, default=8, help="timed batches per measurement")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)

    ds = load_mnist(args.data) if args.data else load_bundled()
    base = Config.load(args.config) if args.config else Config()
    rows = []
    for hidden in args.hidden:
        cfg = scaled_for_hidden(base, hidden, base.training.n_hidden)
        n = cfg.training.batch_size * (args.batches + 1)
        images, labels = ds.train_images[:n], ds.train_labels[:n]
        w0 = init_weights(cfg, images.shape[1])
        times, finals = {True: [], False: []}, {}
        for _ in range(args.repeats):
            for reuse in (True, False):
                t, finals[reuse] = _time(w0, cfg, images, labels, args.batches, reuse)
                times[reuse].append(t)
        same = bool(np.array_equal(finals[True].w_in, finals[False].w_in)
                    and np.array_equal(finals[True].w_out, finals[False].w_out))
        med = {k: float(np.median(v)) for k, v in times.items()}
        row = {"hidden": hidden, "batch": cfg.training.batch_size, "steps_per_cycle": cfg.encoding.t_free
               + cfg.encoding.t_nudge, "reuse_s_per_batch": med[True], "recompute_s_per_batch": med[False],
               "reuse_range": [min(times[True]), max(times[True])],
               "recompute_range": [min(times[False]), max(times[False])],
               "speedup": med[False] / med[True], "same_weights": same}
        rows.append(row)
        print(f"hidden {hidden}: reuse {med[True]:.3f} s/batch [{min(times[True]):.3f}-{max(times[True]):.3f}], "
              f"recompute {med[False]:.3f} s/batch [{min(times[False]):.3f}-{max(times[False]):.3f}], "
              f"x{row['speedup']:.2f}; same weights: {same}", flush=True)
    result = {"command": "python benchmarks/reference_path.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "numpy": np.__version__, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
              "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
