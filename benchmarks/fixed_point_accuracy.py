"""Accuracy of the Loihi-style fixed-point network against its float deploy
form.

    python benchmarks/fixed_point_accuracy.py --model MODEL.npz --data MNIST_DIR \\
        --out docs/results/fixed_point.json

Builds the deployable form of a trained model (``deploy.from_trained``, STP
calibrated on the first ``--calibration`` training images), quantises it
(``exporters.loihi.quantize``) and classifies the test set with

* the float deploy network (numpy reference, ``deploy.run_deploy``),
* the integer network's numpy reference (``LoihiNet.run_reference``),
* the integer network on Lava's ``fixed_pt`` models (``evaluate_deploy(...,
  backend="lava", tag="fixed_pt")``), unless ``--no-lava``,

and writes the accuracies, the prediction agreements and the quantisation
report as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="trained model (.npz, lava_balanced.save_model)")
    ap.add_argument("--data", required=True, help="MNIST directory (IDX files)")
    ap.add_argument("--out", required=True, help="JSON report")
    ap.add_argument("--stp", default="calibrated", help="STP mapping of from_trained")
    ap.add_argument("--calibration", type=int, default=2000, help="training images for the STP calibration")
    ap.add_argument("--n-test", type=int, default=0, help="first N test images (0: all)")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--no-lava", action="store_true", help="skip the Lava fixed_pt run")
    args = ap.parse_args(argv)

    import lava_balanced as lb
    from lava_balanced.deploy import evaluate_deploy, from_trained, run_deploy
    from lava_balanced.exporters.loihi import quantize

    weights, cfg, _ = lb.load_model(args.model)
    ds = lb.load_mnist(args.data)
    net = from_trained(weights, cfg, stp=args.stp, calibration_images=ds.train_images[:args.calibration])
    qnet = quantize(net, signs=[None, weights.hidden_sign])
    X, y = ds.test_images, ds.test_labels.astype(np.int64)
    if args.n_test:
        X, y = X[:args.n_test], y[:args.n_test]

    t0 = time.time()
    p_float = run_deploy(net, X)
    t_float = time.time() - t0
    t0 = time.time()
    p_ref = qnet.run_reference(X)
    t_ref = time.time() - t0
    report = {
        "model": str(args.model), "data": str(args.data), "n_test": int(len(y)), "stp_mapping": args.stp,
        "n_calibration": int(min(args.calibration, len(ds.train_images))),
        "float_deploy_accuracy": float(np.mean(p_float == y)),
        "fixed_reference_accuracy": float(np.mean(p_ref == y)),
        "agreement_fixed_reference_vs_float": float(np.mean(p_ref == p_float)),
        "seconds": {"float_reference": round(t_float, 2), "fixed_reference": round(t_ref, 2)},
    }
    report["accuracy_change_points"] = 100.0 * (report["fixed_reference_accuracy"]
                                                 - report["float_deploy_accuracy"])
    if not args.no_lava:
        res = evaluate_deploy(qnet, X, y, backend="lava", tag="fixed_pt", batch_size=args.batch_size)
        report.update({
            "fixed_lava_accuracy": float(res.accuracy),
            "agreement_fixed_lava_vs_reference": float(np.mean(res.predictions == p_ref)),
            "agreement_fixed_lava_vs_float": float(np.mean(res.predictions == p_float)),
        })
        report["seconds"]["fixed_lava"] = round(res.seconds, 2)
    report["quantization"] = qnet.metadata["layers"]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "quantization"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
