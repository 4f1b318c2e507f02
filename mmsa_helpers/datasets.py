"""The dataset registry: one call loads any dataset of the book (chapter 2, "The same code on real data").

>>> corpus = load_dataset("synthetic")                  # embedded default, no download
>>> corpus = load_dataset("mosi", data_root="~/mmsa_data")  # a reader's own copy of CMU-MOSI

Real datasets are looked for under a data root: the ``data_root`` argument,
else the ``MMSA_DATA_ROOT`` environment variable, else ``~/mmsa_data``.
``python -m mmsa_helpers datasets`` shows what is found and where it was looked for.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .corpus import Corpus
from .errors import ConfigError, SettingError


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    task: str         # what the labels are
    modalities: str   # what the book's loader provides
    loader: Callable[..., Corpus]
    generated: bool = False   # built in code: always available, takes generator settings


def _load_synthetic(*, aligned=False, data_root=None, text_only=False, trusted=False, **config) -> Corpus:
    from .synthetic import generate_corpus

    return generate_corpus(aligned=aligned, **config)


def _load_synthetic_zh(*, aligned=False, data_root=None, text_only=False, trusted=False, **config) -> Corpus:
    """``synthetic`` with ``language="zh"``: the CH-SIMS-like corpus (chapter 15)."""
    if config.get("language", "zh") != "zh":
        raise SettingError(f"synthetic_zh is the Chinese corpus; use -d synthetic for language={config['language']!r}")
    return _load_synthetic(aligned=aligned, **{**config, "language": "zh"})


def _load_synthetic_speech(*, aligned=False, data_root=None, text_only=False, trusted=False, **config) -> Corpus:
    from .speech.synthesis import make_corpus

    if aligned:
        raise ConfigError("aligned=True is not available for synthetic_speech (it is audio only)")
    unknown = set(config) - {"n_speakers", "n_per_emotion", "seed", "duration", "emotions"}
    if unknown:
        raise SettingError(f"synthetic_speech has no setting(s) {sorted(unknown)}; its settings are "
                           "n_speakers, n_per_emotion, seed, duration and emotions")
    return make_corpus(**config)


def _mmsa_loader(name: str) -> Callable[..., Corpus]:
    def load(*, aligned=False, data_root=None, text_only=False, trusted=False) -> Corpus:
        from .real_data import load_mmsa_dataset

        return load_mmsa_dataset(name, root=data_root, aligned=aligned, text_only=text_only, trusted=trusted)

    return load


def _plain_loader(func_name: str) -> Callable[..., Corpus]:
    def load(*, aligned=False, data_root=None, text_only=False, trusted=False) -> Corpus:
        from . import real_data

        if aligned:
            raise ConfigError(f"aligned=True is not available for this dataset ({func_name})")
        return getattr(real_data, func_name)(root=data_root)

    return load


REGISTRY: dict[str, DatasetSpec] = {
    "synthetic": DatasetSpec("synthetic", "sentiment regression [-3, 3] + unimodal labels",
                             "text, audio, vision (generated)", _load_synthetic, generated=True),
    "synthetic_zh": DatasetSpec("synthetic_zh", "Chinese, CH-SIMS-like: regression [-1, 1] + unimodal labels",
                                "text (Chinese), audio, vision (generated)", _load_synthetic_zh, generated=True),
    "synthetic_speech": DatasetSpec("synthetic_speech", "7 emotions (speech)", "audio (generated voices)",
                                    _load_synthetic_speech, generated=True),
    "mosi": DatasetSpec("mosi", "sentiment regression [-3, 3]", "text, audio, vision", _mmsa_loader("mosi")),
    "mosei": DatasetSpec("mosei", "sentiment regression [-3, 3]", "text, audio, vision", _mmsa_loader("mosei")),
    "sims": DatasetSpec("sims", "sentiment regression [-1, 1] + unimodal labels", "text, audio, vision",
                        _mmsa_loader("sims")),
    "meld": DatasetSpec("meld", "7 emotions, 3 sentiments", "text", _plain_loader("load_meld")),
    "emodb": DatasetSpec("emodb", "7 emotions (speech)", "audio (wav files)", _plain_loader("load_emodb")),
}


def get_spec(name: str) -> DatasetSpec:
    key = name.lower()
    if key not in REGISTRY:
        raise ConfigError(f"unknown dataset {name!r}; known datasets: {', '.join(REGISTRY)}")
    return REGISTRY[key]


def load_dataset(
    name: str = "synthetic",
    *,
    aligned: bool = False,
    data_root=None,
    text_only: bool = False,
    trusted: bool = False,
    **config,
) -> Corpus:
    """Load a dataset by registry name.

    Parameters
    ----------
    name:
        ``synthetic`` (default, generated in a few seconds), ``synthetic_zh`` (the same
        with ``language="zh"``: Chinese, CH-SIMS-like, chapter 15), ``mosi``, ``mosei``,
        ``sims`` (MMSA layout), ``meld`` (its CSV files), ``emodb`` (its wav folder),
        ``synthetic_speech`` (generated emotional voices, chapter 7).
    aligned:
        Word-aligned sequences (``aligned_50.pkl``) instead of unaligned ones.
    data_root:
        Folder holding the real datasets (default: ``$MMSA_DATA_ROOT`` or ``~/mmsa_data``).
    text_only:
        For MOSI/MOSEI/SIMS: read only ``label.csv`` (transcripts and labels), which
        is all the text chapters need.
    trusted:
        Load pickles with the full (unsafe) unpickler; only for files you trust.
    **config:
        For the generated datasets only. ``synthetic``: any field of
        :class:`mmsa_helpers.synthetic.SyntheticConfig` (``seed``, ``sizes``,
        ``conflict_rate``, ``noise_audio``, ``language="zh"`` ...); ``synthetic_speech``: the arguments of
        :func:`mmsa_helpers.speech.make_corpus` (``n_speakers``, ``n_per_emotion``, ``seed`` ...).
    """
    spec = get_spec(name)
    if config and not spec.generated:
        raise SettingError(f"{sorted(config)}: generator settings apply to the generated datasets only, not {name!r}")
    return spec.loader(aligned=aligned, data_root=data_root, text_only=text_only, trusted=trusted, **config)


def list_datasets(data_root=None):
    """A table of the registered datasets and whether each is available under the data root."""
    import pandas as pd

    from .real_data import availability, data_root as resolve_root

    rows = []
    for spec in REGISTRY.values():
        if spec.generated:
            rows.append({"name": spec.name, "task": spec.task, "modalities": spec.modalities,
                         "available": "yes (built in)", "looked at": "-"})
            continue
        av = availability(spec.name, data_root)
        status = "yes" if av["available"] else ("text only" if av.get("text_only_available") else "no")
        rows.append({"name": spec.name, "task": spec.task, "modalities": spec.modalities,
                     "available": status, "looked at": "; ".join(str(p) for p in av["looked_at"])})
    table = pd.DataFrame(rows)
    table.attrs["data_root"] = str(resolve_root(data_root))
    return table
