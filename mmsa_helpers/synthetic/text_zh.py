"""Chinese transcripts of the synthetic CH-SIMS-like corpus: a small grammar of movie reviews (chapter 15).

The Chinese twin of :mod:`.text`. ``make_utterance(target, rng)`` draws candidate
sentences from the grammar of :mod:`.lexicon_zh`, scores each with its rules and
keeps one whose valence is close to ``target`` (a soft choice). A transcript is a
list of words (the grammar's own segmentation); the corpus writes it without
spaces, as Chinese is written, and :func:`valence` recomputes the valence from the
words alone: it is the text label ``y_t`` (before it is put on SIMS's scale).
"""
from __future__ import annotations

import numpy as np

from . import lexicon_zh as L
from .text import CHOICE_TEMPERATURE, N_CANDIDATES

Words = tuple[str, ...]


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def _adj_clause(rng, sign: int) -> tuple[Words, float]:
    subj = _pick(rng, L.SUBJECTS)
    fitting = L.adjectives_for(subj)
    adjs = [a for a, v in fitting.items() if np.sign(v) == sign or rng.random() < 0.1]
    adj = _pick(rng, adjs)
    v = fitting[adj]
    words = [subj]
    r = rng.random()
    if v < 0 and r < 0.3:             # "有点无聊": downtoners with negative words only
        mod = _pick(rng, list(L.DOWNTONERS))
        words.append(mod)
        v *= L.DOWNTONERS[mod]
    elif r < 0.75:
        mod = _pick(rng, list(L.INTENSIFIERS))
        words.append(mod)
        v *= L.INTENSIFIERS[mod]
    return (*words, adj), v


def _negated_adj_clause(rng, sign: int) -> tuple[Words, float]:
    subj = _pick(rng, L.SUBJECTS)
    # "不精彩" is negative: pick a word of the opposite sign
    adjs = [a for a, v in L.adjectives_for(subj).items() if np.sign(v) == -sign and abs(v) >= 1.0]
    adj = _pick(rng, adjs)
    return (subj, _pick(rng, L.NEGATORS), adj), -L.NEGATION_FACTOR * L.ADJECTIVES[adj]


def _verb_clause(rng, sign: int) -> tuple[Words, float]:
    subj = _pick(rng, L.SUBJECTS)
    if rng.random() < 0.25:  # "我不喜欢这部电影"
        verb = _pick(rng, [k for k, v in L.VERBS.items() if np.sign(v) == -sign and k != "后悔看"])
        return ("我", "不", verb, subj), -L.NEGATION_FACTOR * L.VERBS[verb]
    verb = _pick(rng, [k for k, v in L.VERBS.items() if np.sign(v) == sign])
    v = L.VERBS[verb]
    words = ["我"]
    if rng.random() < 0.5:
        adv = _pick(rng, list(L.VERB_INTENSIFIERS))
        words.append(adv)
        v *= L.VERB_INTENSIFIERS[adv]
    return (*words, verb, subj), v


def _moved_clause(rng, sign: int) -> tuple[Words, float]:
    subj = _pick(rng, L.SUBJECTS)
    if rng.random() < 0.3:  # "结局没有让我失望": praise through a negated disappointment
        feel = _pick(rng, [k for k, v in L.MOVED_BY.items() if np.sign(v) == -sign])
        return (subj, L.NEG_MOVED, "让", "我", feel), -L.NEGATION_FACTOR * L.MOVED_BY[feel]
    feel = _pick(rng, [k for k, v in L.MOVED_BY.items() if np.sign(v) == sign])
    v = L.MOVED_BY[feel]
    words = [subj, "让", "我"]
    if rng.random() < 0.6:
        mod = _pick(rng, list(L.INTENSIFIERS))
        words.append(mod)
        v *= L.INTENSIFIERS[mod]
    return (*words, feel), v


def _domain_clause(rng, sign: int) -> tuple[Words, float]:
    words, v = _pick(rng, [p for p in L.DOMAIN_PHRASES.values() if np.sign(p[1]) == sign])
    return words, v


_CLAUSES = (_adj_clause, _negated_adj_clause, _verb_clause, _moved_clause, _domain_clause)
_CLAUSE_P = np.array([0.38, 0.12, 0.18, 0.12, 0.20])


def _clause(rng, sign: int) -> tuple[Words, float]:
    return _CLAUSES[int(rng.choice(len(_CLAUSES), p=_CLAUSE_P))](rng, sign)


def _candidate(rng, target: float) -> tuple[Words, float]:
    sign = 1 if target > 0 else -1
    shape = rng.random()
    if shape < 0.62:
        words, v = _clause(rng, sign)
    elif shape < 0.85:  # "A，但是 B": B dominates
        a, va = _clause(rng, -sign)
        b, vb = _clause(rng, sign)
        words, v = (*a, L.COMMA, _pick(rng, L.BUT_WORDS), *b), L.BUT_WEIGHTS[0] * va + L.BUT_WEIGHTS[1] * vb
    else:  # "A，而且 B"
        a, va = _clause(rng, sign)
        b, vb = _clause(rng, sign)
        words, v = (*a, L.COMMA, L.AND_WORD, *b), L.AND_FACTOR * (va + vb)
    if rng.random() < 0.2:
        words, v = (_pick(rng, L.HEDGES), *words), v * L.HEDGE_FACTOR
    return words, L.clip3(v)


def _decorate(rng, words: Words) -> Words:
    if rng.random() < 0.35:
        words = (_pick(rng, L.FILLERS), *words)
    if rng.random() < 0.3:
        neutral = _pick(rng, L.NEUTRAL_CLAUSES)
        words = (*neutral, L.COMMA, *words) if rng.random() < 0.5 else (*words, L.COMMA, *neutral)
    return words


def make_utterance(target: float, rng: np.random.Generator, neutral: bool = False) -> tuple[Words, float]:
    """The words of a transcript and their valence for a target valence (in [-3, 3])."""
    if neutral or abs(target) < 0.15:
        words = _pick(rng, L.NEUTRAL_CLAUSES)
        if rng.random() < 0.4:
            words = (_pick(rng, L.FILLERS), *words)
        return tuple(words), 0.0
    cands = [_candidate(rng, target) for _ in range(N_CANDIDATES)]
    err = np.array([abs(v - target) for _, v in cands])
    w = np.exp(-(err - err.min()) / CHOICE_TEMPERATURE)
    words, v = cands[int(rng.choice(len(cands), p=w / w.sum()))]
    return _decorate(rng, words), float(v)


# --------------------------------------------------------------------------
# The valence of a transcript, from its words
# --------------------------------------------------------------------------
def valence(words) -> float:
    """The compositional valence of a transcript of this grammar, from its words alone."""
    words = list(words)
    hedge = L.HEDGE_FACTOR if any(w in L.HEDGES for w in words) else 1.0
    clauses, current, joins = [], [], []
    for w in words:
        if w == L.COMMA:
            clauses.append(current)
            current = []
        else:
            current.append(w)
    clauses.append(current)
    scored = []
    for c in clauses:
        join = c[0] if c and (c[0] in L.BUT_WORDS or c[0] == L.AND_WORD) else None
        body = [w for w in (c[1:] if join else c) if w not in L.HEDGES and w not in L.FILLERS]
        joins.append(join)
        scored.append(clause_valence(body))
    if any(j in L.BUT_WORDS for j in joins):
        i = next(k for k, j in enumerate(joins) if j in L.BUT_WORDS)
        v = L.BUT_WEIGHTS[0] * sum(scored[:i]) + L.BUT_WEIGHTS[1] * sum(scored[i:])
    elif L.AND_WORD in joins:
        v = L.AND_FACTOR * sum(scored)
    else:
        v = sum(scored)
    return L.clip3(v * hedge)


def clause_valence(words: list[str]) -> float:
    """One clause: a domain phrase, or a sentiment word with the modifier before it."""
    if not words:
        return 0.0
    for phrase, v in L.DOMAIN_PHRASES.values():
        if tuple(words) == phrase:
            return v
    last = words[-1] if words[-1] in L.ADJECTIVES or words[-1] in L.MOVED_BY else None
    if last is not None:
        v = L.ADJECTIVES.get(last, L.MOVED_BY.get(last))
        before = words[-2] if len(words) >= 2 else ""
        if before in L.NEGATORS:
            return -L.NEGATION_FACTOR * v
        if last in L.MOVED_BY and L.NEG_MOVED in words:
            return -L.NEGATION_FACTOR * v
        return v * L.INTENSIFIERS.get(before, L.DOWNTONERS.get(before, 1.0))
    if words[0] == "我" and len(words) >= 3:
        verb, before = words[-2], words[-3]
        if verb in L.VERBS:
            v = L.VERBS[verb]
            if before == "不":
                return -L.NEGATION_FACTOR * v
            return v * L.VERB_INTENSIFIERS.get(before, 1.0)
    return 0.0
