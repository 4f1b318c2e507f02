"""Transcripts of the synthetic corpus: a small grammar driven by a target valence (chapter 2).

``make_utterance(target, rng)`` draws a handful of candidate sentences from the
grammar in :mod:`mmsa_helpers.synthetic.lexicon`, scores each with the
compositional rules, and keeps one whose valence is close to ``target`` (a
soft choice, so the same target can come out as different sentences). The
returned valence -- computed from the words, not copied from the target -- is
the text label ``y_t``.
"""
from __future__ import annotations

import numpy as np

from . import lexicon as L

N_CANDIDATES = 24
#: Temperature of the soft choice among candidates (in valence units).
CHOICE_TEMPERATURE = 0.2


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def _be(subj: str) -> str:
    return "were" if subj in L.PLURAL_SUBJECTS else "was"


def _adj_clause(rng, sign: int) -> tuple[str, float]:
    subj = _pick(rng, L.SUBJECTS)
    adjs = [a for a, v in L.ADJECTIVES.items() if np.sign(v) == sign or rng.random() < 0.1]
    adj = _pick(rng, adjs)
    v = L.ADJECTIVES[adj]
    words = [subj, _be(subj)]
    if rng.random() < 0.5:
        intens = _pick(rng, list(L.INTENSIFIERS))
        words.append(intens)
        v *= L.INTENSIFIERS[intens]
    words.append(adj)
    return " ".join(words), v


def _negated_adj_clause(rng, sign: int) -> tuple[str, float]:
    subj = _pick(rng, L.SUBJECTS)
    # "not great" is negative: pick a word of the opposite sign
    adjs = [a for a, v in L.ADJECTIVES.items() if np.sign(v) == -sign and abs(v) >= 1.0]
    adj = _pick(rng, adjs)
    neg = _pick(rng, ["not", "not that", "never"])
    neg = f"{_be(subj)} {neg}"
    return f"{subj} {neg} {adj}", -L.NEGATION_FACTOR * L.ADJECTIVES[adj]


def _verb_clause(rng, sign: int) -> tuple[str, float]:
    subj = _pick(rng, L.SUBJECTS)
    if rng.random() < 0.25:  # negated verb: "i did not like the plot"
        verbs = [k for k, (_, v) in L.VERBS.items() if np.sign(v) == -sign]
        past = _pick(rng, verbs)
        base, v = L.VERBS[past]
        return f"i did not {base} {subj}", -L.NEGATION_FACTOR * v
    verbs = [k for k, (_, v) in L.VERBS.items() if np.sign(v) == sign]
    past = _pick(rng, verbs)
    v = L.VERBS[past][1]
    words = ["i"]
    if rng.random() < 0.4:
        adv = _pick(rng, list(L.VERB_INTENSIFIERS))
        words.append(adv)
        v *= L.VERB_INTENSIFIERS[adv]
    words += [past, subj]
    return " ".join(words), v


def _domain_clause(rng, sign: int) -> tuple[str, float]:
    subj = _pick(rng, L.SUBJECTS)
    phrases = [p for p, v in L.DOMAIN_PHRASES.items() if np.sign(v) == sign]
    phrase = _pick(rng, phrases)
    said = f"{_be(subj)} {phrase[4:]}" if phrase.startswith("was ") else phrase
    return f"{subj} {said}", L.DOMAIN_PHRASES[phrase]


_CLAUSES = (_adj_clause, _negated_adj_clause, _verb_clause, _domain_clause)
_CLAUSE_P = np.array([0.42, 0.14, 0.26, 0.18])


def _clause(rng, sign: int) -> tuple[str, float]:
    return _CLAUSES[int(rng.choice(len(_CLAUSES), p=_CLAUSE_P))](rng, sign)


def _candidate(rng, target: float) -> tuple[str, float]:
    """One random sentence whose polarity agrees with ``target`` (most of the time)."""
    sign = 1 if target > 0 else -1
    shape = rng.random()
    if shape < 0.62:  # one clause
        text, v = _clause(rng, sign)
    elif shape < 0.85:  # "A but B": B dominates
        a, va = _clause(rng, -sign)
        b, vb = _clause(rng, sign)
        text, v = f"{a} but {b}", L.BUT_WEIGHTS[0] * va + L.BUT_WEIGHTS[1] * vb
    else:  # "A and B"
        a, va = _clause(rng, sign)
        b, vb = _clause(rng, sign)
        text, v = f"{a} and {b}", L.AND_FACTOR * (va + vb)
    if rng.random() < 0.2:
        text, v = f"{_pick(rng, L.HEDGES)} {text}", v * L.HEDGE_FACTOR
    return text, L.clip3(v)


def _decorate(rng, text: str) -> str:
    """Add neutral content and fillers, as people talk."""
    if rng.random() < 0.35:
        text = f"{_pick(rng, L.FILLERS)} {text}"
    if rng.random() < 0.3:
        neutral = _pick(rng, L.NEUTRAL_CLAUSES)
        text = f"{neutral} and {text}" if rng.random() < 0.5 else f"{text} {_pick(rng, ('and', 'so', 'um'))} {neutral}"
    return text


def make_utterance(target: float, rng: np.random.Generator, neutral: bool = False) -> tuple[str, float]:
    """A transcript and its compositional valence ``y_t`` for a target valence.

    ``neutral=True`` gives a purely factual utterance (valence 0) whatever the target:
    people often say things that carry no sentiment in words while their voice and
    face still do.
    """
    if neutral or abs(target) < 0.15:
        text = _pick(rng, L.NEUTRAL_CLAUSES)
        if rng.random() < 0.4:
            text = f"{_pick(rng, L.FILLERS)} {text}"
        return text, 0.0
    cands = [_candidate(rng, target) for _ in range(N_CANDIDATES)]
    err = np.array([abs(v - target) for _, v in cands])
    w = np.exp(-(err - err.min()) / CHOICE_TEMPERATURE)
    text, v = cands[int(rng.choice(len(cands), p=w / w.sum()))]
    return _decorate(rng, text), float(v)


def valence(text: str) -> float:
    """Recompute the compositional valence of a generated transcript (used by the tests).

    This parser understands only sentences produced by :func:`make_utterance`.
    """
    s = " ".join(text.split()).replace(" were ", " was ")
    hedge = 1.0
    for h in L.HEDGES:
        if f" {h} " in f" {s} ":
            hedge = L.HEDGE_FACTOR
    if " but " in f" {s} ":
        a, b = s.split(" but ", 1)
        v = L.BUT_WEIGHTS[0] * _clause_valence(a) + L.BUT_WEIGHTS[1] * _clause_valence(b)
    else:
        parts = [p for p in s.split(" and ") if _clause_valence(p) != 0.0]
        v = L.AND_FACTOR * sum(_clause_valence(p) for p in parts) if len(parts) == 2 else (
            _clause_valence(parts[0]) if parts else 0.0)
    return L.clip3(v * hedge)


def _clause_valence(clause: str) -> float:
    c = f" {clause} "
    for phrase, v in L.DOMAIN_PHRASES.items():
        if f" {phrase} " in c:
            return v
    words = clause.split()
    for past, (base, v) in L.VERBS.items():
        if f" did not {base} " in c:
            return -L.NEGATION_FACTOR * v
        if past in words:
            for adv, m in L.VERB_INTENSIFIERS.items():
                if f" {adv} {past} " in c:
                    return v * m
            return v
    for adj, v in L.ADJECTIVES.items():
        if adj in words and (f" was {adj} " in c or any(f" {i} {adj} " in c for i in L.INTENSIFIERS)
                             or f" not {adj} " in c or f" never {adj} " in c or f" that {adj} " in c):
            if " not " in c or " never " in c:
                return -L.NEGATION_FACTOR * v
            for intens, m in L.INTENSIFIERS.items():
                if f" {intens} {adj} " in c:
                    return v * m
            return v
    return 0.0
