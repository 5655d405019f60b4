"""Write the tutorial notebooks (without outputs) from the cell sources here.

    python tools/make_tutorials.py

Edit the cells below, rerun, commit the .ipynb files; tests/test_tutorials.py
executes every notebook.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(__file__).resolve().parents[1] / "tutorials"

SETUP = '''import os
import numpy as np
import matplotlib.pyplot as plt
import lava_balanced as lb

# The MNIST folder to use: set LAVA_BALANCED_DATA to a folder with the four IDX
# files for the full dataset; by default the small subset shipped in the package.
DATA = os.environ.get("LAVA_BALANCED_DATA", "bundled")
print("data:", DATA)'''

QUICKSTART = [
    new_markdown_cell("""# 1. Quick start: a Balanced SNN in Lava

This notebook trains a 784-100-10 Balanced SNN (Zhang et al., IJCAI-18) with
the paper's local balance rules, running as Lava processes, evaluates it, and
looks inside: spike rasters of the three layers and the accuracy during
training. It runs in about a minute on a 2-core laptop on the bundled MNIST
subset (6,000 training and 1,000 test images)."""),
    new_code_cell(SETUP),
    new_markdown_cell("""## Configure and train

Every parameter lives in `lb.Config` (print `lb.Config().dumps()` for all of
them, or run `lava-balanced config`). One epoch over the training images,
batches of 64 samples per Lava time step; each sample is shown for a free
phase (16 steps) and a nudged phase (16 steps, with the teacher)."""),
    new_code_cell('''cfg = lb.Config().override(**{"training.n_hidden": 100, "training.epochs": 1,
                              "training.n_train": 6000, "training.n_test": 1000})
result = lb.train(cfg, data=DATA, out_dir="runs/tutorial1", backend="lava")
print(f"trained in {result.seconds:.1f} s, test accuracy {result.test.accuracy:.4f}")'''),
    new_markdown_cell("""## Accuracy during training

`result.history` holds the on-line training accuracy (the free phase's
classification of each batch before its weight update), accumulated from the
start."""),
    new_code_cell('''batches = [h["batch"] for h in result.history]
acc = [h["train_accuracy"] for h in result.history]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.array(batches) * cfg.training.batch_size, acc, "o-")
ax.set_xlabel("training samples seen")
ax.set_ylabel("on-line training accuracy (cumulative)")
ax.set_ylim(0, 1)
ax.grid(alpha=0.3)
plt.show()'''),
    new_markdown_cell("""## Evaluate from the saved model

The model file holds the weights, the configuration used and metadata. The
confusion matrix has the true class in rows."""),
    new_code_cell('''weights, cfg2, meta = lb.load_model("runs/tutorial1/model.npz")
res = lb.evaluate(weights, cfg2, data=DATA)
print("test accuracy:", res.accuracy, "| meta:", {k: meta[k] for k in ("test_accuracy", "n_train")})
fig, ax = plt.subplots(figsize=(4.5, 4))
im = ax.imshow(res.confusion, cmap="Blues")
ax.set_xlabel("predicted class")
ax.set_ylabel("true class")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
fig.colorbar(im, ax=ax, label="test images")
plt.show()'''),
    new_markdown_cell("""## Inside the network: spike rasters

`lava_balanced.reference.record` steps the same kernels as the Lava processes
(bit for bit) through the free phase of a few test images and returns every
layer's spikes and potentials, shape (time steps, images, neurons)."""),
    new_code_cell('''from lava_balanced.reference import record

ds = lb.load_dataset(DATA)
trace = record(weights, cfg2, ds.test_images[:1])
fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
axes[0].imshow(ds.test_images[0].reshape(28, 28), cmap="gray")
axes[0].set_title(f"input (label {ds.test_labels[0]})")
axes[0].axis("off")
for ax, key, title in zip(axes[1:3], ("s_in", "s_h"), ("input spikes", "hidden spikes")):
    t, n = np.nonzero(trace[key][:, 0, :])
    ax.plot(t, n, "|", markersize=4)
    ax.set_xlabel("time step (1 ms)")
    ax.set_ylabel("neuron")
    ax.set_title(title)
for k in range(10):
    axes[3].plot(trace["v_o"][:, 0, k], label=str(k), lw=2.5 if k == ds.test_labels[0] else 1)
axes[3].axhline(cfg2.neuron.v_th, color="k", ls=":")
axes[3].set_xlabel("time step (1 ms)")
axes[3].set_ylabel("potential (threshold units)")
axes[3].set_title("output potentials (thick: true class)")
axes[3].legend(ncol=2, fontsize=7)
plt.tight_layout()
plt.show()
print("output spikes:", trace["s_o"][:, 0, :].sum(0).astype(int))
print("output mean potentials:", trace["v_o"][:, 0, :].mean(0).round(2))'''),
    new_markdown_cell("""The output neuron with the most spikes in the free phase is the answer,
ties broken by the higher mean potential. In 16 steps few output neurons
reach threshold, so most answers come from the potentials: the supervision
(eq. 10-11) and consolidation (eq. 12) act on the output layer's membrane
potential (see `docs/model.md`). Next: `02_balance_rules.ipynb` takes the
rules apart one by one."""),
]

RULES = [
    new_markdown_cell("""# 2. The balance rules one by one

The Balanced SNN learns with three balance principles plus weak supervision
and consolidation. This notebook looks at each piece on its own, with the same
functions the Lava processes run (`lava_balanced.equations`), then measures
what the rules do to learning on the bundled MNIST subset."""),
    new_code_cell(SETUP + '''
from lava_balanced import equations as eq'''),
    new_markdown_cell("""## A single conductance LIF neuron (eq. 1)

`tau_m dV/dt = -(V - V_L) - g_I/g_L (V - V_I) + I_syn/g_L`, integrated exactly
over each 1 ms step. Excitatory input drives the current `I_syn`; inhibitory
input opens a conductance that pulls `V` towards the reversal potential
`V_I`, however strong it is."""),
    new_code_cell('''n = lb.Config().neuron
T = 60
fig, ax = plt.subplots(figsize=(7, 3.5))
for i_syn, g_inh, label in [(0.8, 0.0, "I=0.8 (below threshold)"), (1.5, 0.0, "I=1.5 (spikes)"),
                            (1.5, 1.0, "I=1.5 with g_I=1")]:
    v, vs = np.zeros((1, 1)), []
    for _ in range(T):
        v = eq.lif_integrate(v, np.full((1, 1), i_syn), np.full((1, 1), g_inh), dt=n.dt, tau_m=n.tau_m,
                             v_leak=n.v_leak, v_exc=n.v_exc, v_inh=n.v_inh, g_exc=n.g_exc)
        spikes, v, _ = eq.lif_fire(v, np.zeros((1, 1)), v_th=n.v_th, v_reset=n.v_reset, t_ref=n.t_ref)
        vs.append(v[0, 0] if not spikes[0, 0] else n.v_th)
    ax.plot(np.arange(T) * n.dt, vs, label=label)
ax.axhline(n.v_th, color="k", ls=":", label="threshold")
ax.set_xlabel("time (ms)")
ax.set_ylabel("membrane potential (threshold units)")
ax.legend(fontsize=8)
plt.show()'''),
    new_markdown_cell("""## Excitatory-inhibitory balance: the sign rule (eq. 6)

Every outgoing synapse of an excitatory neuron stays >= 0, of an inhibitory
neuron <= 0 (Dale's law). An update that would shrink a weight past zero is
cut so that at most the fraction `eta1` of its magnitude goes in one step.
Below: a tiny 4 x 3 network hammered with random updates."""),
    new_code_cell('''rng = np.random.default_rng(0)
sign = np.array([1.0, 1.0, -1.0, -1.0])[:, None]  # two excitatory, two inhibitory presynaptic neurons
w = rng.uniform(0.1, 0.5, (4, 3)) * sign
history = [w.copy()]
for _ in range(200):
    w = eq.ei_bounded_update(w, rng.normal(0, 1.0, w.shape), sign, eta0=0.1, eta1=0.5)
    history.append(w.copy())
history = np.array(history)
fig, ax = plt.subplots(figsize=(7, 3.5))
for j in range(4):
    for i in range(3):
        ax.plot(history[:, j, i], color="tab:red" if sign[j, 0] > 0 else "tab:blue", lw=1)
ax.axhline(0, color="k", lw=0.8)
ax.set_xlabel("update")
ax.set_ylabel("weight (red: excitatory rows, blue: inhibitory)")
plt.show()
print("signs kept:", bool(np.all(history * sign >= 0)))'''),
    new_markdown_cell("""## Short-term plasticity (eq. 7-9)

`u` (facilitation) grows with the presynaptic rate, `x` (available resources)
shrinks: low rates facilitate, high rates depress, so the release `u x` per
spike varies far less than the rate. The analytic steady state for a regular
train is `equations.stp_steady_state`."""),
    new_code_cell('''s = lb.Config().synapse
df, dd = np.exp(-1 / s.tau_f), np.exp(-1 / s.tau_d)
rates = np.array([2, 5, 10, 20, 50, 100, 200, 500])
ss = np.array([eq.stp_steady_state(1000 / r, s.U, df, dd) for r in rates])
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.semilogx(rates, ss[:, 0], "o-", label="u*")
ax.semilogx(rates, ss[:, 1], "s-", label="x*")
ax.semilogx(rates, ss[:, 0] * ss[:, 1], "^-", label="release u* x* per spike")
ax.set_xlabel("presynaptic rate (Hz)")
ax.set_ylabel("steady state")
ax.legend()
plt.show()'''),
    new_markdown_cell("""## What the rules do to learning

Train on the bundled subset with the numpy reference path (the same kernels
as the Lava processes, bit for bit, and faster for a sweep), switching the
pieces off one at a time. One epoch on 6,000 images each; the numbers are small-data
numbers, the full-MNIST ones are in `docs/results.md`."""),
    new_code_cell('''base = lb.Config().override(**{"training.n_train": 6000, "training.n_test": 1000})
variants = {
    "all rules (default)": {},
    "no STP": {"synapse.stp": False},
    "no inhibitory neurons": {"training.p_inh": 0.0},
    "no MP balance (hidden learns nothing)": {"learning.eta_mp": 0.0},
    "no supervision nudge": {"learning.eta_c": 0.0},
}
acc = {}
for name, over in variants.items():
    acc[name] = lb.train(base.override(**over), data=DATA, backend="reference").test.accuracy
    print(f"{name:40s} {acc[name]:.3f}")
fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(list(acc), list(acc.values()))
ax.set_xlabel("test accuracy")
ax.set_xlim(0, 1)
plt.show()'''),
]


def main():
    OUT.mkdir(exist_ok=True)
    for name, cells in (("01_quickstart.ipynb", QUICKSTART), ("02_balance_rules.ipynb", RULES)):
        nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
        nbformat.write(nb, OUT / name)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
