"""Does Spyx (JAX), importing an exported ``.nir``, compute what the Lava
network computes?

    python benchmarks/spyx_agreement.py --nir model.nir --data /path/to/mnist [--n 10000] [--out docs/results/spyx.json]

Runs the MNIST test images through

* the Lava network built from the graph (``from_nir`` +
  ``evaluate_deploy(..., backend="lava")``),
* the numpy reference of the same network (``run_deploy``),
* Spyx (``lava_balanced.exporters.spyx.spyx_predict``) with stock spyx
  (``reset="spyx"``) and with the NIR-reset workaround cell
  (``reset="nir"``),

all with the encoding recorded in the graph (``t_steps``, ``max_rate``,
``seed``), and reports each Spyx mode's agreement with the Lava predictions
(and with the reference), the accuracies, and the fraction of samples whose
output spike counts match the reference exactly. Needs the ``[jax]`` extra
and Lava in the same environment. It reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from importlib import metadata
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lava_balanced.data import load_mnist  # noqa: E402
from lava_balanced.deploy import evaluate_deploy, run_deploy  # noqa: E402
from lava_balanced.exporters.nir import from_nir, read_nir  # noqa: E402
from lava_balanced.exporters.spyx import RESET_MODES, graph_encoding, spyx_predict  # noqa: E402


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nir", required=True, help="an .nir file written by lava-balanced's exporter")
    ap.add_argument("--data", required=True, help="folder with the MNIST IDX files")
    ap.add_argument("--n", type=int, default=None, help="first N test images (default: all)")
    ap.add_argument("--batch-size", type=int, default=1000, help="Spyx batch size")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)

    ds = load_mnist(args.data)
    X, y = ds.test_images, ds.test_labels.astype(np.int64)
    if args.n is not None:
        X, y = X[:args.n], y[:args.n]
    enc = graph_encoding(read_nir(args.nir))
    net = from_nir(read_nir(args.nir))

    t0 = time.perf_counter()
    lava = evaluate_deploy(net, X, y, backend="lava")
    lava_s = time.perf_counter() - t0
    lava_pred = np.asarray(lava.predictions)
    t0 = time.perf_counter()
    ref_pred, ref_counts, ref_v = run_deploy(net, X, return_traces=True)
    ref_s = time.perf_counter() - t0

    result = {
        "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]) if argv is None
        else " ".join(["python", "benchmarks/spyx_agreement.py", *map(shlex.quote, argv)]),
        "nir": str(args.nir),
        "n_images": int(len(X)),
        "encoding": enc,
        "versions": {"python": platform.python_version(),
                     **{d: _version(d) for d in ("lava-balanced", "lava-nc", "nir", "numpy", "spyx", "jax",
                                                 "jaxlib", "dm-haiku")}},
        "lava": {"accuracy": float(lava.accuracy), "seconds": round(lava_s, 1)},
        "reference": {"accuracy": float(np.mean(ref_pred == y)),
                      "agreement_with_lava": float(np.mean(ref_pred == lava_pred)), "seconds": round(ref_s, 1)},
        "spyx": {},
        "readout": "most output spikes over t_steps, ties broken by the higher mean output potential; "
                   "spyx output read over steps L..L+t_steps-1 (spikes) and L-1..L+t_steps-2 (potential), "
                   "L = number of layers, after L zero input steps (its one-step delay per layer)",
    }
    for reset in RESET_MODES:
        t0 = time.perf_counter()
        pred, counts, vmean = spyx_predict(args.nir, X, reset=reset, batch_size=args.batch_size,
                                           return_traces=True, **enc)
        secs = time.perf_counter() - t0
        acc = float(np.mean(pred == y))
        agree = float(np.mean(pred == lava_pred))
        result["spyx"][reset] = {
            "accuracy": acc,
            "agreement_with_lava": agree,
            "agreement_with_lava_percent": round(100 * agree, 2),
            "accuracy_difference_points": round(100 * (acc - float(lava.accuracy)), 2),
            "agreement_with_reference": float(np.mean(pred == ref_pred)),
            "n_disagreements_with_lava": int(np.sum(pred != lava_pred)),
            "spike_counts_identical_to_reference": float(np.mean(np.all(counts == ref_counts, axis=1))),
            "max_abs_v_mean_difference_to_reference": float(np.max(np.abs(vmean - ref_v))),
            "meets_99_percent_and_0.5_points": bool(agree >= 0.99 and abs(acc - float(lava.accuracy)) <= 0.005),
            "seconds": round(secs, 1),
        }
        print(f"spyx reset={reset}: accuracy {acc:.4f}, agreement with Lava {100 * agree:.2f} %", flush=True)
    print(f"lava accuracy {lava.accuracy:.4f}; reference {result['reference']['accuracy']:.4f} "
          f"(agrees with Lava on {100 * result['reference']['agreement_with_lava']:.2f} %)")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
