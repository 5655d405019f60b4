"""A :class:`lava_balanced.deploy.DeployNet` as Lava processes::

    SpikeEncoder -> BatchDense -> CubaLIFLayer -> ... -> BatchDense -> CubaLIFLayer -> Readout

One Lava step advances a batch of samples; each sample is shown for
``t_steps`` steps and classified by the readout from the last layer's spike
counts and mean potentials. ``tag="fixed_pt"`` runs the Loihi-style integer
models on a network quantised by :mod:`lava_balanced.exporters.loihi`.
"""

from __future__ import annotations

from typing import List

import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg

from . import kernels as K
from .lava_models import TAG_ASYNC, TAG_SYNC
from .network import ReadoutNetwork
from .processes.cubalif.process import CubaLIFLayer
from .processes.dense.process import BatchDense
from .processes.encoder.process import SpikeEncoder
from .processes.readout.process import Readout

__all__ = ["DeployNetwork", "deploy_run_config", "TAG_FIXED", "DEPLOY_TAGS"]

TAG_FIXED = "fixed_pt"
DEPLOY_TAGS = (TAG_SYNC, TAG_ASYNC, TAG_FIXED)


def deploy_run_config(tag: str = TAG_ASYNC) -> Loihi2SimCfg:
    """Run configuration for a deploy network: ``floating_pt`` (Lava's
    synchronous protocol), ``floating_pt_async`` or ``fixed_pt`` (integer
    Dense and LIF models, the encoder and readout on their async models)."""
    if tag not in DEPLOY_TAGS:
        raise ValueError(f"unknown model tag {tag!r}; use one of {DEPLOY_TAGS}")
    if tag == TAG_SYNC:
        return Loihi2SimCfg(select_tag=TAG_SYNC)
    from .processes.encoder.models import PySpikeEncoderModelAsync
    from .processes.readout.models import PyReadoutModelAsync
    models = {SpikeEncoder: PySpikeEncoderModelAsync, Readout: PyReadoutModelAsync}
    if tag == TAG_ASYNC:
        from .processes.cubalif.models import PyCubaLIFModelAsync
        from .processes.dense.models import PyBatchDenseModelAsync
        models.update({BatchDense: PyBatchDenseModelAsync, CubaLIFLayer: PyCubaLIFModelAsync})
    else:
        from .processes.cubalif.models import PyCubaLIFModelFixedAsync
        from .processes.dense.models import PyBatchDenseModelFixedAsync
        models.update({BatchDense: PyBatchDenseModelFixedAsync, CubaLIFLayer: PyCubaLIFModelFixedAsync})
    return Loihi2SimCfg(select_tag=TAG_SYNC, exception_proc_model_map=models)


class DeployNetwork(ReadoutNetwork):
    """The Lava processes of a deploy network for ``images`` and ``labels``.

    ``net`` is a :class:`lava_balanced.deploy.DeployNet` (float) or a
    :class:`lava_balanced.exporters.loihi.LoihiNet` (integer; run it with
    ``tag="fixed_pt"``)."""

    def __init__(self, net, images: np.ndarray, labels: np.ndarray, batch_size: int = 100):
        images = np.asarray(images)
        batch_size = int(min(batch_size, len(images)))
        self.schedule = K.Schedule(n_samples=len(images), batch_size=batch_size, t_free=int(net.t_steps),
                                   t_nudge=1, learning=False, seed=int(net.seed))
        self.encoder = SpikeEncoder(images=images, schedule=self.schedule, max_rate=net.max_rate,
                                    name="encoder")
        self.dense: List[BatchDense] = []
        self.lif: List[CubaLIFLayer] = []
        src = self.encoder.s_out
        for k, layer in enumerate(net.layers):
            dense = BatchDense(**layer.dense_args(), batch_size=batch_size, name=f"dense{k}")
            lif = CubaLIFLayer(n=layer.n_post, params=layer.neuron_params(), schedule=self.schedule,
                               name=f"lif{k}")
            src.connect(dense.s_in)
            dense.a_out.connect(lif.a_in)
            src = lif.s_out
            self.dense.append(dense)
            self.lif.append(lif)
        self.readout = Readout(labels=labels, n_out=net.n_out, schedule=self.schedule, mode=net.readout,
                               record=True, name="readout")
        self.lif[-1].trace_out.connect(self.readout.trace_in)
        self._started = False

    def run(self, tag: str = TAG_ASYNC) -> None:
        """Present every sample once."""
        self.encoder.run(condition=RunSteps(num_steps=self.schedule.batches_per_epoch * self.schedule.cycle,
                                            blocking=True), run_cfg=deploy_run_config(tag))
        self._started = True
