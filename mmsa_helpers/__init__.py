"""Helper package of the book *Multimodal Sentiment Analysis with Deep Learning*.

Every chapter notebook starts with ``mmsa_helpers.setup()``. The package keeps
the code that chapters reuse:

- :mod:`mmsa_helpers.runtime`   -- ``setup()``: seeds, threads, plot style, device
- :mod:`mmsa_helpers.synthetic` -- the embedded, MOSI-like synthetic corpus
- :mod:`mmsa_helpers.corpus`    -- the ``Corpus`` container every loader returns
- :mod:`mmsa_helpers.datasets`  -- the dataset registry (``load_dataset``)
- :mod:`mmsa_helpers.pickle_io` -- safe loading, validation and export of MMSA pickles
- :mod:`mmsa_helpers.real_data` -- loaders for MOSI/MOSEI/SIMS, MELD and EMO-DB
- :mod:`mmsa_helpers.torch_data` -- PyTorch ``Dataset`` and collate functions
- :mod:`mmsa_helpers.metrics`   -- MMSA's regression metrics and classification metrics
- :mod:`mmsa_helpers.cli`       -- ``python -m mmsa_helpers ...``

Imports are lazy so that ``import mmsa_helpers`` stays fast.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .runtime import setup  # noqa: E402  (light: imports torch only when called)

__all__ = ["setup", "load_dataset", "__version__"]


def load_dataset(name: str = "synthetic", **kwargs):
    """Load a dataset by name; see :func:`mmsa_helpers.datasets.load_dataset`."""
    from .datasets import load_dataset as _load

    return _load(name, **kwargs)
