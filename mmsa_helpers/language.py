"""Which language a corpus speaks, and how its transcripts split into words (chapter 15).

English words are separated by spaces; Chinese is written without them, so
``"剧情拖沓".split()`` is one "word". Every word-level model of the book
(chapter 4's lexicon scorer, chapter 5's TF-IDF, chapter 6's vocabularies)
asks :func:`corpus_language` and splits with :func:`split_words`:

* ``"en"``: on white space (what chapters 1-12 do);
* ``"zh"``: with the jieba segmenter (:func:`segment`), which finds words with a
  dictionary and a hidden Markov model for unknown ones.

The language is *declared* (``corpus.info["language"]``, set by the Chinese
synthetic corpus; the names ``sims``, ``simsv2`` and ``synthetic_zh``) or
*detected* (:func:`detect_language`: Chinese characters in the transcripts).
Chinese text is never split on spaces silently: :func:`split_words` refuses
``language="en"`` for a transcript that is mostly Chinese characters.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Iterable

from .errors import ConfigError

LANGUAGES = ("en", "zh")
#: Dataset names whose transcripts are Chinese.
CHINESE_DATASETS = frozenset({"sims", "simsv2", "ch-sims", "chsims", "synthetic_zh"})
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def han_share(text: str) -> float:
    """Share of the non-space characters of ``text`` that are Chinese (Han) characters."""
    chars = [c for c in str(text) if not c.isspace()]
    return sum(bool(_HAN.match(c)) for c in chars) / len(chars) if chars else 0.0


def detect_language(texts: Iterable[str], threshold: float = 0.3) -> str:
    """``"zh"`` when Chinese characters make up more than ``threshold`` of the characters, else ``"en"``."""
    texts = [str(t) for t in texts]
    chars = sum(len(t.replace(" ", "")) for t in texts)
    han = sum(len(_HAN.findall(t)) for t in texts)
    return "zh" if chars and han / chars > threshold else "en"


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ConfigError(f"language must be one of {LANGUAGES} ('en' English, 'zh' Chinese), got {language!r}")
    return language


def corpus_language(corpus) -> str:
    """The language of a corpus's transcripts: declared in ``info["language"]``, by its name, or detected."""
    declared = corpus.info.get("language")
    if declared is not None:
        return check_language(declared)
    if corpus.name.lower() in CHINESE_DATASETS:
        return "zh"
    split = next((d for d in corpus.splits.values() if "raw_text" in d), None)
    return detect_language(list(split["raw_text"])[:200]) if split is not None else "en"


@lru_cache(maxsize=1)
def _jieba():
    """jieba's segmenter, its log messages silenced (it prints "Building prefix dict..." to stderr)."""
    try:
        import jieba
    except ModuleNotFoundError:
        raise ImportError("Chinese text needs the jieba segmenter: pip install jieba "
                          "(it is in requirements/book.txt)") from None
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def segment(text: str) -> list[str]:
    """Chinese words of ``text`` with jieba's default (accurate) mode, white space dropped.

    >>> segment("剧情拖沓但是演员的演技很好")   # doctest: +SKIP
    ['剧情', '拖沓', '但是', '演员', '的', '演技', '很', '好']
    """
    return [w for w in _jieba().lcut(str(text)) if w.strip()]


def split_words(text: str, language: str = "en") -> list[str]:
    """The words of one transcript: white space for ``"en"``, jieba for ``"zh"``.

    Raises :class:`~mmsa_helpers.errors.ConfigError` when ``language="en"`` is asked of a
    transcript that is mostly Chinese characters, which white space would leave as one word.
    """
    if check_language(language) == "zh":
        return segment(text)
    if han_share(text) > 0.5:
        raise ConfigError(f"{str(text)[:20]!r}... is Chinese text, which has no spaces between words; split it "
                          "with language='zh' (the jieba segmenter), or let the model read the corpus's language")
    return str(text).split()


class WordSplitter:
    """``split_words`` with its language fixed: a picklable callable (scikit-learn's ``tokenizer=``)."""

    def __init__(self, language: str = "en"):
        self.language = check_language(language)

    def __call__(self, text: str) -> list[str]:
        return split_words(text, self.language)

    def __repr__(self) -> str:
        return f"WordSplitter({self.language!r})"
