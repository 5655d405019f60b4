"""lava-balanced: the Balanced SNN of Zhang, Zeng, Zhao and Xu, "Brain-inspired
Balanced Tuning for Spiking Neural Networks" (IJCAI-18), on Intel's Lava.

Python API in a few lines::

    import lava_balanced as lb

    cfg = lb.Config().override(**{"training.n_hidden": 100, "training.epochs": 1})
    result = lb.train(cfg, data="bundled", out_dir="runs/demo")   # Lava processes
    print(result.test.accuracy)
    weights, cfg, meta = lb.load_model("runs/demo/model.npz")
    print(lb.evaluate(weights, cfg, data="/path/to/mnist").accuracy)

The equations live in :mod:`lava_balanced.equations`, the per-layer step
kernels in :mod:`lava_balanced.kernels`, the Lava processes in
:mod:`lava_balanced.processes`, and a numpy reference of the whole network in
:mod:`lava_balanced.reference`.
"""

from .config import (Config, ConfigError, EncodingConfig, LearningConfig, NeuronConfig,
                     SynapseConfig, TrainingConfig)
from .data import Dataset, IDXError, download_mnist, load_bundled, load_dataset, load_mnist, read_idx
from .model import DaleViolation, Weights, init_weights, load_model, save_model
from .runner import LavaRunError, LavaTimeout, run_isolated
from .training import EvalResult, TrainResult, evaluate, train

__version__ = "0.1.0"

__all__ = [
    "Config", "ConfigError", "EncodingConfig", "LearningConfig", "NeuronConfig", "SynapseConfig",
    "TrainingConfig", "Dataset", "IDXError", "download_mnist", "load_bundled", "load_dataset",
    "load_mnist", "read_idx", "DaleViolation", "Weights", "init_weights", "load_model", "save_model",
    "LavaRunError", "LavaTimeout", "run_isolated", "EvalResult", "TrainResult", "evaluate", "train",
]
