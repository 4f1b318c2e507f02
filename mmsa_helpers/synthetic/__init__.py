"""The embedded synthetic corpus: a MOSI-like multimodal sentiment dataset made in code (chapter 2).

>>> from mmsa_helpers.synthetic import generate_corpus
>>> corpus = generate_corpus(seed=0)            # unaligned, MOSI-sized
>>> corpus["train"]["audio"].shape              # (utterances, frames, descriptors)
"""
from .audio import AUDIO_DESCRIPTIONS, AUDIO_FEATURES
from .generate import SyntheticConfig, generate_corpus, generate_utterances, word_vector
from .vision import VISION_DESCRIPTIONS, VISION_FEATURES

__all__ = [
    "SyntheticConfig", "generate_corpus", "generate_utterances", "word_vector",
    "AUDIO_FEATURES", "AUDIO_DESCRIPTIONS", "VISION_FEATURES", "VISION_DESCRIPTIONS",
]
