"""The valence lexicon and compositional rules of the synthetic corpus (chapter 2, "Text").

The text of every synthetic utterance is built from this small grammar, and its
text label ``y_t`` is *computed* from the words with the rules below, the way a
reader who sees only the transcript would judge it:

* a sentiment word has a graded valence in [-3, 3] (``ADJECTIVES``, ``VERBS``);
* an intensifier multiplies it (``very`` x1.3, ``kind of`` x0.6 ...);
* negation flips and dampens it: ``not v`` = ``-NEGATION_FACTOR * v``;
* in "A but B" the second clause dominates: ``BUT_WEIGHTS`` = (0.3, 0.7);
* two clauses joined by "and" add up, damped by ``AND_FACTOR``;
* a hedge ("i guess", "maybe") scales the whole utterance by ``HEDGE_FACTOR``;
* domain phrases ("fell flat", "kept me on the edge of my seat") carry valence
  that general-purpose lexicons do not know.

The result is clipped to [-3, 3].
"""
from __future__ import annotations

ADJECTIVES: dict[str, float] = {
    # negative
    "terrible": -2.9, "horrible": -2.9, "awful": -2.8, "unwatchable": -2.8, "pointless": -2.3,
    "stupid": -2.2, "bad": -2.0, "disappointing": -2.0, "annoying": -1.9, "boring": -1.8,
    "dull": -1.7, "weak": -1.5, "confusing": -1.4, "forgettable": -1.3, "mediocre": -1.0,
    "average": -0.4,
    # mildly positive to positive
    "okay": 0.3, "fine": 0.5, "decent": 1.0, "interesting": 1.2, "nice": 1.4, "solid": 1.5,
    "funny": 1.6, "good": 1.8, "entertaining": 2.0, "beautiful": 2.2, "great": 2.5,
    "wonderful": 2.6, "amazing": 2.8, "brilliant": 2.8, "fantastic": 2.9, "perfect": 3.0,
}

#: Verbs for "i loved the plot" / "i did not like the plot" (past form, base form, valence).
VERBS: dict[str, tuple[str, float]] = {
    "loved": ("love", 2.7), "adored": ("adore", 2.9), "enjoyed": ("enjoy", 2.0),
    "liked": ("like", 1.6), "appreciated": ("appreciate", 1.3),
    "disliked": ("dislike", -1.7), "hated": ("hate", -2.8), "regretted": ("regret", -2.2),
}

#: Phrases whose valence comes from the movie domain, not from a general lexicon.
DOMAIN_PHRASES: dict[str, float] = {
    "was predictable": -1.4, "dragged on": -1.6, "went nowhere": -1.8, "fell flat": -2.0,
    "was a snooze": -2.2, "was a waste of money": -2.6, "put me to sleep": -2.3,
    "had plot holes everywhere": -2.1,
    "was spot on": 2.0, "hit home": 2.0, "grew on me": 1.3, "was a blast": 2.4,
    "kept me on the edge of my seat": 2.6, "blew me away": 2.8, "had me laughing": 2.1,
}

INTENSIFIERS: dict[str, float] = {
    "very": 1.3, "really": 1.3, "so": 1.3, "extremely": 1.5, "absolutely": 1.5,
    "incredibly": 1.5, "quite": 1.15, "pretty": 1.1,
    "a bit": 0.6, "kind of": 0.6, "somewhat": 0.6, "slightly": 0.5, "fairly": 0.8,
}
#: Adverbs that intensify a verb: "i really loved".
VERB_INTENSIFIERS: dict[str, float] = {"really": 1.3, "totally": 1.4, "absolutely": 1.5, "kind of": 0.6, "sort of": 0.6}

HEDGES: tuple[str, ...] = ("i guess", "i think", "maybe", "i suppose")
NEGATION_FACTOR = 0.5
BUT_WEIGHTS = (0.3, 0.7)
AND_FACTOR = 0.6
HEDGE_FACTOR = 0.8

SUBJECTS: tuple[str, ...] = (
    "the movie", "this movie", "the film", "it", "the acting", "the plot", "the story",
    "the ending", "the soundtrack", "the music", "the characters", "the dialogue",
    "the effects", "the pacing", "the script", "the first half", "the humor",
)

PLURAL_SUBJECTS: frozenset[str] = frozenset({"the characters", "the effects", "the cast"})

#: Sentences with no sentiment: facts about the film or the speaker.
NEUTRAL_CLAUSES: tuple[str, ...] = (
    "i saw it last weekend", "i watched it with my brother", "it is about two hours long",
    "it came out last year", "my friend told me about it", "the main character is a detective",
    "it is set in a small town", "there is a scene in a restaurant", "i went to the late show",
    "it is based on a book", "the director also made a sequel", "it is rated pg thirteen",
    "there are three main characters", "most of it takes place at night",
)
FILLERS: tuple[str, ...] = ("um", "uh", "so", "you know", "like", "anyway", "well")


def clip3(v: float) -> float:
    return max(-3.0, min(3.0, v))
