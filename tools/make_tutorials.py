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
DATA = os.environ.get("LAVA_BALANCED_DATA") or "bundled"
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

EXPORT = [
    new_markdown_cell("""# 3. Export: the trained network through NIR

A network trained with the balance rules should leave Lava and run elsewhere,
computing the same thing. This notebook trains a small Balanced SNN, writes it
to an [NIR](https://neuroir.org) file, inspects the graph, runs the file on
Lava (and on Spyx/JAX when the `[jax]` extra is installed), and compares the
predictions with the trained network's. About a minute on the bundled subset.
`docs/export.md` explains every mapping used here."""),
    new_code_cell(SETUP),
    new_markdown_cell("""## Train (numpy reference path: the same equations as the Lava processes)"""),
    new_code_cell('''ds = lb.load_dataset(DATA).subset(6000, 1000)
cfg = lb.Config().override(**{"training.n_hidden": 100, "training.epochs": 1})
weights = lb.train(cfg, ds, backend="reference", evaluate_test=False).weights
from lava_balanced.training import predict_reference
trained_pred = predict_reference(weights, cfg, ds.test_images)
print("trained network, test accuracy:", np.mean(trained_pred == ds.test_labels))'''),
    new_markdown_cell("""## The deployable form and the NIR file

STP (eq. 7-9) and the inhibitory conductance (eq. 1) have no NIR primitive.
`from_trained` maps them: STP becomes a fixed gain per hidden neuron (its mean
release per spike, calibrated on training images), the conductance the
current it injects at rest. The hidden layer is mapped exactly."""),
    new_code_cell('''from lava_balanced.deploy import from_trained, evaluate_deploy, run_deploy, stp_gains
from lava_balanced.exporters.nir import to_nir, write_nir, read_nir, from_nir
import nir

net = from_trained(weights, cfg, stp="calibrated", calibration_images=ds.train_images[:2000])
os.makedirs("runs", exist_ok=True)
write_nir("runs/tutorial3.nir", to_nir(net))
graph = nir.read("runs/tutorial3.nir")
for name, node in graph.nodes.items():
    shape = getattr(node, "weight", None)
    print(f"{name:7s} {type(node).__name__:8s}", "weight " + str(shape.shape) if shape is not None else "")
lif = graph.nodes["lif0"]
print("hidden CubaLIF: tau_syn", lif.tau_syn[0], "ms, tau_mem", lif.tau_mem[0], "ms, r", lif.r[0])
print("metadata:", {k: v for k, v in graph.metadata.items() if k in ("dt", "t_steps", "max_rate", "readout")})'''),
    new_markdown_cell("""Dale's law survives the export: each hidden neuron's outgoing weights keep
one sign, recorded in the graph as `presynaptic_sign`. The STP gains that
replace eq. 7-9, per hidden neuron:"""),
    new_code_cell('''w_out = graph.nodes["fc1"].weight          # NIR layout: (10 outputs, 100 hidden)
sign = graph.nodes["fc1"].metadata["presynaptic_sign"]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
axes[0].hist(w_out[:, sign > 0].ravel(), bins=40, color="tab:red", alpha=0.7, label="from excitatory")
axes[0].hist(w_out[:, sign < 0].ravel(), bins=40, color="tab:blue", alpha=0.7, label="from inhibitory")
axes[0].set_xlabel("hidden -> output weight (NIR units)")
axes[0].set_ylabel("synapses")
axes[0].legend()
gains = cfg.synapse.A * stp_gains(weights, cfg, "calibrated", ds.train_images[:2000])
axes[1].hist(gains, bins=30)
axes[1].set_xlabel("STP gain A * <u x> per spike")
axes[1].set_ylabel("hidden neurons")
plt.tight_layout()
plt.show()'''),
    new_markdown_cell("""## Run the NIR file on Lava

`from_nir` reads any feed-forward chain of NIR primitives; the result runs on
the project's Lava processes, a batch of samples per time step."""),
    new_code_cell('''imported = from_nir(read_nir("runs/tutorial3.nir"), dt=1.0)
lava = evaluate_deploy(imported, ds.test_images, ds.test_labels, backend="lava")
print(f"NIR file on Lava: accuracy {lava.accuracy:.4f}; same prediction as the exported network "
      f"(numpy) on {np.mean(lava.predictions == run_deploy(net, ds.test_images)):.2%}; as the trained "
      f"network on {np.mean(lava.predictions == trained_pred):.2%} of the test images")'''),
    new_markdown_cell("""## Another back end: Spyx (JAX)

With `pip install -e ".[jax]"` the same file runs in Spyx.
`lava_balanced.exporters.spyx` feeds it the same input spikes and reads it out
the same way (see its docstring for the Spyx conventions it accounts for)."""),
    new_code_cell('''try:
    from lava_balanced.exporters.spyx import spyx_predict
except ImportError as exc:
    spyx_predict = None
    print("Spyx is not installed:", exc)
if spyx_predict is not None:
    try:
        spyx_pred = spyx_predict("runs/tutorial3.nir", ds.test_images, dt=1.0, t_steps=net.t_steps,
                                 max_rate=net.max_rate, seed=net.seed)
        print(f"Spyx: accuracy {np.mean(spyx_pred == ds.test_labels):.4f}; "
              f"agrees with Lava on {np.mean(spyx_pred == lava.predictions):.2%}")
    except ImportError as exc:
        print("Spyx is not installed:", exc)'''),
    new_markdown_cell("""## An exactly exportable network

Trained with current-based inhibition (`neuron.inhibition = "current"`) and
without STP, the network needs no approximation: the NIR file computes what
the trained network computes."""),
    new_code_cell('''exact_cfg = cfg.override(**{"neuron.inhibition": "current", "synapse.stp": False})
exact_w = lb.train(exact_cfg, ds, backend="reference", evaluate_test=False).weights
write_nir("runs/tutorial3_exact.nir", to_nir(from_trained(exact_w, exact_cfg)))
exact_lava = evaluate_deploy(from_nir(read_nir("runs/tutorial3_exact.nir")), ds.test_images,
                             ds.test_labels, backend="lava")
exact_trained = predict_reference(exact_w, exact_cfg, ds.test_images)
print(f"trained {np.mean(exact_trained == ds.test_labels):.4f}, NIR on Lava {exact_lava.accuracy:.4f}, "
      f"same prediction on {np.mean(exact_trained == exact_lava.predictions):.2%}")
fig, ax = plt.subplots(figsize=(6, 3))
names = ["trained\\n(STP, conductance)", "NIR on Lava", "trained\\n(exact variant)", "its NIR on Lava"]
vals = [np.mean(trained_pred == ds.test_labels), lava.accuracy, np.mean(exact_trained == ds.test_labels),
        exact_lava.accuracy]
ax.bar(names, vals, color=["tab:gray", "tab:green", "tab:gray", "tab:green"])
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
plt.tight_layout()
plt.show()'''),
]

FIXED = [
    new_markdown_cell("""# 4. Loihi-style fixed point

Loihi computes with integers: 8-bit weight mantissas with a shared exponent,
12-bit decays, a threshold mantissa, 24-bit state. This notebook quantises a
trained Balanced SNN to those formats, keeping Dale's law by giving excitatory
and inhibitory neurons separate sign modes, runs it bit-accurately with the
`fixed_pt` Lava models, and compares it with the float network. About a
minute on the bundled subset; `docs/export.md` has the details."""),
    new_code_cell(SETUP),
    new_code_cell('''from lava_balanced.deploy import from_trained, evaluate_deploy, run_deploy
from lava_balanced.exporters.loihi import (quantize, write_netx, read_netx, SIGN_EXCITATORY,
                                           SIGN_INHIBITORY)

ds = lb.load_dataset(DATA).subset(6000, 1000)
cfg = lb.Config().override(**{"training.n_hidden": 100, "training.epochs": 1})
weights = lb.train(cfg, ds, backend="reference", evaluate_test=False).weights
net = from_trained(weights, cfg, calibration_images=ds.train_images[:2000])   # float, deployable form
qnet = quantize(net)
for k, layer in enumerate(qnet.layers):
    print(f"layer {k}: weight_exp {layer.weight_exp}, du {np.unique(layer.du)}, dv {np.unique(layer.dv)}, "
          f"vth_mant {np.unique(layer.vth_mant)}, scale {layer.scale:.4g} integer units per potential unit")'''),
    new_markdown_cell("""## Weights per sign mode

Each hidden neuron is excitatory or inhibitory (Dale's law). On Loihi its
outgoing synapses go into an `EXCITATORY` (mantissas 0..255) or an
`INHIBITORY` (-255..0) connection, so the signs are enforced by the hardware
and all 8 bits carry magnitude."""),
    new_code_cell('''out = qnet.layers[1]
exc = out.weight[out.sign_mode == SIGN_EXCITATORY].ravel()
inh = out.weight[out.sign_mode == SIGN_INHIBITORY].ravel()
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
axes[0].hist(exc, bins=np.arange(0, 257, 8), color="tab:red")
axes[0].set_title(f"EXCITATORY rows ({(out.sign_mode == SIGN_EXCITATORY).sum()} hidden neurons)")
axes[1].hist(inh, bins=np.arange(-256, 1, 8), color="tab:blue")
axes[1].set_title(f"INHIBITORY rows ({(out.sign_mode == SIGN_INHIBITORY).sum()} hidden neurons)")
for ax in axes:
    ax.set_xlabel("hidden -> output weight mantissa (8 bits)")
    ax.set_ylabel("synapses")
plt.tight_layout()
plt.show()
print("excitatory mantissas in", exc.min(), "..", exc.max(), "; inhibitory in", inh.min(), "..", inh.max())'''),
    new_markdown_cell("""## One neuron, float against integer

The same input spikes through the float layer and the integer layer. The
integer potential divided by the layer's scale follows the float potential
until rounding (of the weights to 8 bits, of the decays to 12 bits) puts one
of them on the other side of the threshold: then one neuron spikes and resets
a step before the other. The last line counts how often that happens over the
whole hidden layer."""),
    new_code_cell('''from lava_balanced import kernels as K
T = net.t_steps
uni = K.encoder_uniforms(net.seed, 0, np.arange(1), T, 784)
x = ds.test_images[:1].astype(np.float32) / np.float32(255)
fl, q = net.layers[0], qnet.layers[0]
i, v = np.zeros((1, fl.n_post)), np.zeros((1, fl.n_post))
u_q, v_q = np.zeros((1, q.n_post), dtype=np.int64), np.zeros((1, q.n_post), dtype=np.int64)
vf, vq, same = [], [], []
for t in range(T):
    s = K.encode(uni[t], x, net.max_rate)
    i, v, s_f = fl.step(i, v, s)
    u_q, v_q, s_q = q.step(u_q, v_q, s)
    vf.append(v[0].copy()); vq.append(v_q[0] / q.scale)
    same.append(s_f[0] == s_q[0].astype(bool))
j = int(np.argmax(np.array(vf).max(axis=0)))   # the hidden neuron most driven by this image
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(np.array(vf)[:, j], "o-", label="float")
ax.plot(np.array(vq)[:, j], "x--", label="integer / scale")
ax.axhline(1.0, color="gray", lw=0.8, ls=":", label="threshold")
ax.set_xlabel("time step (1 ms)")
ax.set_ylabel(f"potential of hidden neuron {j}")
ax.legend()
plt.show()
print(f"hidden spikes identical (neuron x step) for this image: {np.mean(same):.2%}")'''),
    new_markdown_cell("""## Accuracy: float, integer reference, and the `fixed_pt` Lava models

`write_netx` stores the quantised network in lava-dl netx's HDF5 layout (plus
the sign modes and exponents netx has no field for); `read_netx` reads it
back exactly."""),
    new_code_cell('''os.makedirs("runs", exist_ok=True)
write_netx("runs/tutorial4.net", qnet)
qback = read_netx("runs/tutorial4.net")
float_pred = run_deploy(net, ds.test_images)
int_pred = qback.run_reference(ds.test_images)
lava = evaluate_deploy(qback, ds.test_images, ds.test_labels, backend="lava", tag="fixed_pt")
acc = {"float": np.mean(float_pred == ds.test_labels), "integer (numpy)": np.mean(int_pred == ds.test_labels),
       "integer (Lava fixed_pt)": lava.accuracy}
for name, a in acc.items():
    print(f"{name:24s} {a:.4f}")
print(f"Lava fixed_pt equals the integer reference on {np.mean(lava.predictions == int_pred):.2%}, "
      f"the float network on {np.mean(lava.predictions == float_pred):.2%} of the test images")
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(list(acc), list(acc.values()), color=["tab:gray", "tab:orange", "tab:green"])
ax.set_ylabel("test accuracy")
ax.set_ylim(0, 1)
plt.tight_layout()
plt.show()'''),
]


def main():
    OUT.mkdir(exist_ok=True)
    for name, cells in (("01_quickstart.ipynb", QUICKSTART), ("02_balance_rules.ipynb", RULES),
                        ("03_export_nir.ipynb", EXPORT), ("04_fixed_point.ipynb", FIXED)):
        for k, cell in enumerate(cells):  # stable ids: regenerating changes nothing
            cell["id"] = f"{name[:2]}-{k:02d}"
        nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
        nbformat.write(nb, OUT / name)
        print("wrote", OUT / name)


if __name__ == "__main__":
    main()
