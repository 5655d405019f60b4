"""Exporters: the trained network leaves Lava.

* :mod:`lava_balanced.exporters.nir`: NIR graphs (export of the deployable
  form, import of any feed-forward NIR chain into Lava);
* :mod:`lava_balanced.exporters.loihi`: Loihi-style fixed point (8-bit weight
  mantissas split by sign mode, 12-bit decays) run by ``fixed_pt`` models.

The deployable form they share is :mod:`lava_balanced.deploy`.
"""
