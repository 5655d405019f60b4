"""Time of the fixed-point dense accumulation (``equations.
loihi_dense_accumulate``: integer spikes times 8-bit weight mantissas) with
numpy's int64 product against ``equations.integer_matmul`` (float64 BLAS,
exact below 2**53), and against ``equations.LoihiDense`` (the same with the
weights' float64 copy and largest magnitude prepared once, as the
``fixed_pt`` BatchDense model runs it), on the shapes of the exported
networks, in the same run.

    OMP_NUM_THREADS=1 python benchmarks/integer_matmul.py --hidden 100 1600 6400 --repeats 5 \\
        --out docs/benchmarks-integer-matmul.json

For each hidden size: one step's input -> hidden accumulation for a batch of
``--batch`` samples (spikes with probability 0.13, MNIST's mean intensity;
weights uniform in the excitatory mantissa range 0..255), median seconds
of ``--repeats`` runs and the ratios int64 / integer_matmul and
integer_matmul / prepared; all results are checked equal before timing.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lava_balanced import equations as eq  # noqa: E402


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), [float(min(times)), float(max(times))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hidden", type=int, nargs="+", default=[100, 1600, 6400])
    ap.add_argument("--batch", type=int, default=100, help="samples per step (evaluate's batch)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", help="JSON file for the results")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []
    for h in args.hidden:
        s = (rng.random((args.batch, 784)) < 0.13).astype(np.int8)
        w = rng.integers(0, 256, (784, h)).astype(np.int64)
        int64 = lambda: eq.loihi_shift(s.astype(np.int64) @ w, 0)  # noqa: E731  the previous code
        fast = lambda: eq.loihi_dense_accumulate(s, w, 0)  # noqa: E731
        prepared = eq.LoihiDense(w, 0)
        reference = int64()
        if not (np.array_equal(reference, fast()) and np.array_equal(reference, prepared(s))):
            raise SystemExit(f"hidden {h}: integer_matmul or LoihiDense differs from the int64 product")
        t_int, r_int = _median_time(int64, args.repeats)
        t_fast, r_fast = _median_time(fast, args.repeats)
        t_prep, r_prep = _median_time(lambda: prepared(s), args.repeats)
        rows.append({"hidden": h, "batch": args.batch, "int64_s": t_int, "int64_range": r_int,
                     "integer_matmul_s": t_fast, "integer_matmul_range": r_fast, "ratio": t_int / t_fast,
                     "prepared_s": t_prep, "prepared_range": r_prep, "prepared_ratio": t_fast / t_prep})
        print(f"hidden {h}: int64 {t_int:.4f} s, integer_matmul {t_fast:.4f} s (x{t_int / t_fast:.1f}), "
              f"prepared {t_prep:.4f} s (x{t_fast / t_prep:.1f} against integer_matmul)", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"command": "python benchmarks/integer_matmul.py " + " ".join(
            argv if argv is not None else sys.argv[1:]), "machine": platform.platform(), "results": rows},
            indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
