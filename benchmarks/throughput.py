"""Training throughput of the 784-H-10 Balanced SNN: the Lava processes
(both model tags) against the plain numpy run of the same kernels, measured
in the same process run.

    python benchmarks/throughput.py [--data DIR] [--batches 16 32 64 128] [--out docs/benchmarks.json]

For every batch size it trains on MNIST training images for a fixed number of
batches (after one warm-up batch that absorbs Lava's compilation and process
start-up) and reports samples/s and sample-timesteps/s (samples x time steps
per cycle / wall time). Each measurement is repeated (``--repeats``) and the
median is reported with the range: with seven Lava processes on two cores the
operating system's scheduling makes single runs vary by +-15 %. The ratio
divides each Lava median by the numpy reference median measured in the same
run. Nothing here is a test: it reports.
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
from lava_balanced.lava_models import TAG_ASYNC, TAG_SYNC  # noqa: E402
from lava_balanced.model import init_weights  # noqa: E402
from lava_balanced.reference import run_reference  # noqa: E402
from lava_balanced.runner import run_isolated  # noqa: E402
from lava_balanced.training import _schedule  # noqa: E402  the training's own schedule


def _lava_job(weights, cfg, images, labels, batch, n_batches, tag, report):
    from lava_balanced.network import BalancedNetwork

    sched = _schedule(cfg, len(images), True, batch_size=batch)
    net = BalancedNetwork(weights, cfg, images, labels, sched)
    try:
        t0 = time.perf_counter()
        net.run(1, tag)  # warm-up: compilation and process start-up
        t1 = time.perf_counter()
        net.run(n_batches, tag)
        t2 = time.perf_counter()
        return {"startup_s": t1 - t0, "seconds": t2 - t1}
    finally:
        net.stop()


def _reference(weights, cfg, images, labels, batch, n_batches):
    sched = _schedule(cfg, len(images), True, start_batch=1, batch_size=batch)
    run_reference(weights, cfg, images, labels, _schedule(cfg, len(images), True, batch_size=batch), 1)  # warm-up
    t0 = time.perf_counter()
    run_reference(weights, cfg, images, labels, sched, n_batches)
    return {"seconds": time.perf_counter() - t0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=None, help="MNIST folder (default: the bundled subset)")
    ap.add_argument("--batches", type=int, nargs="+", default=[16, 32, 64, 128])
    ap.add_argument("--samples", type=int, default=4096, help="training samples per measurement")
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--tags", nargs="+", default=[TAG_ASYNC, TAG_SYNC])
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)

    ds = load_mnist(args.data) if args.data else load_bundled()
    cfg = Config().override(**{"training.n_hidden": args.hidden})
    cycle = cfg.encoding.t_free + cfg.encoding.t_nudge
    weights = init_weights(cfg)
    images, labels = ds.train_images, ds.train_labels
    rows = []
    for batch in args.batches:
        n_batches = max(1, args.samples // batch)
        samples = n_batches * batch
        res = {"batch": batch, "samples": samples, "cycle_steps": cycle}
        def stats(values):
            return {"median": float(np.median(values)), "min": float(min(values)), "max": float(max(values))}

        ref_s = [_reference(weights, cfg, images, labels, batch, n_batches)["seconds"] for _ in range(args.repeats)]
        ref_med = float(np.median(ref_s))
        res["numpy"] = {"sample_timesteps_per_s": stats([samples * cycle / t for t in ref_s]),
                        "samples_per_s": samples / ref_med}
        line = f"batch {batch:4d}: numpy {samples * cycle / ref_med:9.0f} sample-ts/s"
        for tag in args.tags:
            outs = [run_isolated(_lava_job, weights, cfg, images, labels, batch, n_batches, tag, timeout=1800)
                    for _ in range(args.repeats)]
            secs = [o["seconds"] for o in outs]
            med = float(np.median(secs))
            res[tag] = {"sample_timesteps_per_s": stats([samples * cycle / t for t in secs]),
                        "samples_per_s": samples / med, "startup_s": stats([o["startup_s"] for o in outs]),
                        "ratio_to_numpy": ref_med / med}
            r = res[tag]["sample_timesteps_per_s"]
            line += (f" | lava {tag} {r['median']:9.0f} [{r['min']:.0f}-{r['max']:.0f}]"
                     f" (x{res[tag]['ratio_to_numpy']:.2f})")
        print(line, flush=True)
        rows.append(res)
    report = {
        "command": "python benchmarks/throughput.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "network": f"784-{args.hidden}-10", "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                                       "platform": platform.platform()},
        "config": {"t_free": cfg.encoding.t_free, "t_nudge": cfg.encoding.t_nudge,
                   "feedback_delay": cfg.learning.feedback_delay}, "repeats": args.repeats, "results": rows,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
