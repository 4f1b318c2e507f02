"""Speech: a synthetic emotional voice, acoustic features and speech-emotion
classifiers (chapter 7, "Speech")."""
from .synthesis import EMOTIONS, Speaker, make_corpus, make_speaker, synthesize

__all__ = ["EMOTIONS", "Speaker", "make_corpus", "make_speaker", "synthesize"]
