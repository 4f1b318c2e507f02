"""The Chinese valence lexicon and rules of the synthetic CH-SIMS-like corpus (chapter 15).

The Chinese twin of :mod:`mmsa_helpers.synthetic.lexicon`. Transcripts are movie reviews built from
these words by :mod:`.text_zh`, and the text's valence is computed from the
words with the rules below (values on the English grammar's scale [-3, 3];
the corpus then puts them on SIMS's scale [-1, 1]):

* a sentiment word has a graded valence (``ADJECTIVES``, ``VERBS``,
  ``MOVED_BY``: "让我很感动");
* a degree adverb multiplies it: 很 x1.2, 非常 x1.5, 有点 x0.6 ...;
* negation (不, 不太, 并不 before an adjective or a verb; 没有 before "让我...")
  flips and dampens it: ``-NEGATION_FACTOR * v``;
* in "A，但是 B" (also 可是, 不过) the second clause dominates: ``BUT_WEIGHTS``;
* "A，而且 B" adds the two, damped by ``AND_FACTOR``;
* a hedge (我觉得, 感觉, 可能, 好像) scales the whole utterance by ``HEDGE_FACTOR``;
* domain phrases (剧情拖沓, 烂尾, 值回票价) carry valence that a general-purpose
  lexicon does not know.
"""
from __future__ import annotations

ADJECTIVES: dict[str, float] = {
    # negative
    "糟糕": -2.8, "难看": -2.4, "烂": -2.6, "无聊": -1.9, "乏味": -1.8, "尴尬": -1.9,
    "沉闷": -1.7, "幼稚": -1.6, "做作": -1.6, "混乱": -1.5, "空洞": -1.5, "老套": -1.3,
    "平庸": -1.2, "一般": -0.5,
    # mildly positive to positive
    "还行": 0.4, "真实": 1.0, "流畅": 1.2, "有意思": 1.3, "不错": 1.5, "有趣": 1.5,
    "温暖": 1.6, "好看": 1.9, "感人": 2.2, "优秀": 2.4, "精彩": 2.5, "出色": 2.5,
    "震撼": 2.6, "完美": 3.0,
}

#: Verbs with the speaker as subject: "我很喜欢这部电影" / "我不喜欢剧情".
VERBS: dict[str, float] = {
    "喜欢": 1.8, "欣赏": 1.4, "推荐": 2.0, "爱": 2.6,
    "讨厌": -2.4, "受不了": -2.2, "后悔看": -2.0,
}

#: Feelings after 让我 ("结局让我很感动"); 没有 negates them ("结局没有让我失望" is praise).
MOVED_BY: dict[str, float] = {"感动": 2.2, "惊喜": 2.4, "满意": 1.8, "失望": -2.0, "无语": -1.8, "困惑": -1.2}

#: Movie-domain phrases: each is a whole clause (its words) and its valence.
DOMAIN_PHRASES: dict[str, tuple[tuple[str, ...], float]] = {
    "剧情拖沓": (("剧情", "拖沓"), -1.6), "节奏太慢": (("节奏", "太", "慢"), -1.4),
    "烂尾": (("结局", "烂尾", "了"), -2.0), "让人出戏": (("让", "人", "出戏"), -1.8),
    "五毛特效": (("特效", "五毛"), -2.2), "看得我昏昏欲睡": (("看", "得", "我", "昏昏欲睡"), -2.3),
    "浪费钱": (("纯属", "浪费", "钱"), -2.6), "狗血": (("剧情", "很", "狗血"), -1.8),
    "笑点密集": (("笑点", "密集"), 2.0), "值回票价": (("值回", "票价"), 2.4),
    "演技在线": (("演技", "在线"), 2.0), "泪目": (("看", "得", "我", "泪目"), 2.2),
    "全程无尿点": (("全程", "无", "尿点"), 2.6), "越看越有味道": (("越看越", "有", "味道"), 1.4),
}

INTENSIFIERS: dict[str, float] = {
    "很": 1.2, "非常": 1.5, "特别": 1.4, "十分": 1.4, "超级": 1.5, "真的": 1.3, "比较": 0.9,
}
#: Downtoners go with negative words only ("有点无聊", not "有点精彩").
DOWNTONERS: dict[str, float] = {"有点": 0.6, "有些": 0.6, "稍微有点": 0.5}
#: Adverbs before a verb: "我真的很喜欢".
VERB_INTENSIFIERS: dict[str, float] = {"很": 1.2, "非常": 1.5, "真的": 1.3, "超": 1.4}

NEGATORS: tuple[str, ...] = ("不", "不太", "并不")
NEG_MOVED = "没有"
BUT_WORDS: tuple[str, ...] = ("但是", "可是", "不过")
AND_WORD = "而且"
HEDGES: tuple[str, ...] = ("我觉得", "感觉", "可能", "好像")
NEGATION_FACTOR = 0.5
BUT_WEIGHTS = (0.3, 0.7)
AND_FACTOR = 0.6
HEDGE_FACTOR = 0.8

SUBJECTS: tuple[str, ...] = (
    "这部电影", "这部片子", "电影", "剧情", "故事", "演员的演技", "结局", "配乐", "画面",
    "特效", "台词", "剧本", "前半段", "人物", "主角",
)

#: Adjectives that go with a subject that is not the film as a whole (配乐 is not 好看);
#: the other subjects take every adjective.
_PEOPLE = frozenset({"真实", "空洞", "老套", "幼稚", "有意思", "有趣", "出色", "平庸", "一般", "温暖", "做作"})
SUBJECT_ADJECTIVES: dict[str, frozenset[str]] = {
    "演员的演技": frozenset({"出色", "优秀", "精彩", "不错", "真实", "一般", "平庸", "做作", "尴尬", "糟糕"}),
    "配乐": frozenset({"出色", "优秀", "不错", "震撼", "温暖", "完美", "一般", "平庸", "糟糕", "沉闷"}),
    "画面": frozenset({"好看", "精彩", "震撼", "完美", "不错", "温暖", "一般", "难看", "混乱", "糟糕"}),
    "特效": frozenset({"震撼", "出色", "完美", "精彩", "不错", "好看", "一般", "难看", "混乱", "糟糕"}),
    "台词": frozenset({"精彩", "有意思", "有趣", "真实", "不错", "一般", "幼稚", "尴尬", "做作", "空洞",
                     "老套", "糟糕"}),
    "人物": _PEOPLE,
    "主角": _PEOPLE,
}


def adjectives_for(subject: str) -> dict[str, float]:
    """The adjectives (and valences) that can describe ``subject``."""
    allowed = SUBJECT_ADJECTIVES.get(subject)
    return {a: v for a, v in ADJECTIVES.items() if allowed is None or a in allowed}


#: Sentences with no sentiment: facts about the film or the speaker, as word lists.
NEUTRAL_CLAUSES: tuple[tuple[str, ...], ...] = (
    ("我", "上", "周末", "看", "的"), ("我", "和", "朋友", "一起", "去", "看", "的"),
    ("这部电影", "两个", "小时", "左右"), ("它", "是", "去年", "上映", "的"),
    ("主角", "是", "一名", "警察"), ("故事", "发生", "在", "一个", "小城市"),
    ("导演", "还", "拍", "过", "续集"), ("它", "改编", "自", "一本", "小说"),
    ("大部分", "情节", "发生", "在", "晚上"), ("里面", "有", "三个", "主要", "角色"),
    ("我", "看", "的", "是", "晚场"), ("是", "朋友", "叫", "我", "去", "看", "的"),
)
FILLERS: tuple[str, ...] = ("嗯", "那个", "就是", "然后", "反正", "其实")
COMMA = "，"


def clip3(v: float) -> float:
    return max(-3.0, min(3.0, v))
