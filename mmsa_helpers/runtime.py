"""``setup()``: the one call at the top of every notebook (Preface, "Running the code").

It makes a notebook reproducible and comfortable on a laptop CPU:

* seeds Python's ``random``, NumPy and PyTorch;
* asks PyTorch for deterministic algorithms;
* caps the number of CPU threads (a 2-core laptop is the reference machine);
* sets the book's plot style;
* picks a device: a GPU when one is present (and allowed), else the CPU;
* prints one line that says all of this.
"""
from __future__ import annotations

import os
import sys
import random
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError

DEFAULT_SEED = 0

#: The book's colours for the three modalities and the multimodal label, used by every figure.
MODALITY_COLORS = {
    "text": "#1f77b4",
    "audio": "#d62728",
    "vision": "#2ca02c",
    "multimodal": "#6a3d9a",
}


@dataclass(frozen=True)
class SetupInfo:
    """What :func:`setup` did; printed as one line."""

    seed: int
    threads: int
    device: str
    torch_version: str
    deterministic: bool

    def _ipython_display_(self) -> None:
        """Show nothing when a notebook cell ends with ``setup()``: its report was already printed."""

    def __str__(self) -> str:  # the one-line report
        from . import __version__

        return (
            f"mmsa_helpers {__version__} · seed {self.seed} · torch {self.torch_version} · "
            f"{self.device}, {self.threads} thread{'s' if self.threads != 1 else ''}"
            + (" · deterministic" if self.deterministic else "")
        )


def seed_everything(seed: int = DEFAULT_SEED) -> None:
    """Seed Python, NumPy and (if installed) PyTorch."""
    random.seed(seed)
    np.random.seed(seed)
    import torch

    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def pick_device(prefer_gpu: bool = True) -> str:
    """Return ``"cuda"`` when a GPU is present and wanted, ``"mps"`` on Apple silicon, else ``"cpu"``.

    Set the environment variable ``MMSA_DEVICE`` (``cpu``, ``cuda``, ``cuda:1`` ...)
    to override the choice.
    """
    import torch

    forced = os.environ.get("MMSA_DEVICE")
    if forced:
        return forced
    if prefer_gpu and torch.cuda.is_available():
        return "cuda"
    if prefer_gpu and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def set_plot_style() -> None:
    """The book's figure and table style: seaborn's whitegrid, readable sizes, no top/right spines."""
    import matplotlib as mpl
    import seaborn as sns

    import pandas as pd

    sns.set_theme(context="notebook", style="whitegrid", palette="deep")
    pd.set_option("display.max_colwidth", 100)  # transcripts fit on the page
    pd.set_option("display.precision", 3)
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.frameon": False,
        }
    )


def setup(
    seed: int = DEFAULT_SEED,
    threads: int | None = None,
    *,
    prefer_gpu: bool = True,
    plot_style: bool = True,
    quiet: bool = False,
) -> SetupInfo:
    """Prepare a notebook: seeds, determinism, threads, plot style and device.

    Parameters
    ----------
    seed:
        Seed for Python, NumPy and PyTorch. The same seed gives the same numbers.
    threads:
        CPU threads PyTorch may use. Default: ``MMSA_THREADS`` if set, else
        ``min(4, os.cpu_count())``, which keeps runs comparable across laptops.
    prefer_gpu:
        Use a GPU when one is present. The book never *requires* one.
    plot_style:
        Apply the book's matplotlib/seaborn style.
    quiet:
        Do not print the one-line report.
    """
    import torch

    if threads is None:
        threads = int(os.environ.get("MMSA_THREADS", min(4, os.cpu_count() or 1)))
    if threads < 1:
        raise ConfigError(f"threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)
    # cuBLAS needs this for deterministic matrix products on a GPU.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    # No download/loading progress bars from Hugging Face libraries: in a notebook they are
    # widgets, which the static website cannot show and which pull scripts from a CDN.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if "transformers" in sys.modules:
        sys.modules["transformers"].utils.logging.disable_progress_bar()
    torch.use_deterministic_algorithms(True, warn_only=True)
    if hasattr(torch.backends, "cudnn"):
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    seed_everything(seed)
    if plot_style:
        set_plot_style()
    info = SetupInfo(
        seed=seed,
        threads=threads,
        device=pick_device(prefer_gpu),
        torch_version=torch.__version__.split("+")[0],
        deterministic=True,
    )
    if not quiet:
        print(info)
    return info
