"""The embedded synthetic corpus: determinism, layout, and real structure in every modality."""
import time

import numpy as np
import pytest

from mmsa_helpers.synthetic import AUDIO_FEATURES, VISION_FEATURES, SyntheticConfig, generate_corpus
from mmsa_helpers.synthetic.text import make_utterance, valence

SMALL = SyntheticConfig.small()


@pytest.fixture(scope="module")
def small():
    return generate_corpus(SMALL)


@pytest.fixture(scope="module")
def full():
    return generate_corpus()


def _arrays(corpus):
    return {(s, k): v for s, d in corpus.splits.items() for k, v in d.items() if isinstance(v, np.ndarray)}


def test_same_seed_gives_byte_identical_arrays(small):
    from mmsa_helpers.synthetic.generate import generate_utterances

    generate_utterances.cache_clear()  # regenerate from scratch, not from the cache
    again = generate_corpus(SyntheticConfig.small())
    a, b = _arrays(small), _arrays(again)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key
    assert small["test"]["raw_text"] == again["test"]["raw_text"]


def test_other_seed_gives_other_data(small):
    other = generate_corpus(SyntheticConfig.small(seed=1))
    assert other["train"]["raw_text"] != small["train"]["raw_text"]
    assert not np.array_equal(other["train"]["regression_labels"], small["train"]["regression_labels"])


def test_default_sizes_are_mosi_like_and_fast():
    from mmsa_helpers.synthetic.generate import generate_utterances

    generate_utterances.cache_clear()
    t0 = time.perf_counter()
    corpus = generate_corpus()
    seconds = time.perf_counter() - t0
    assert corpus.sizes() == {"train": 1284, "valid": 229, "test": 686}
    assert seconds < 20, f"generation took {seconds:.1f}s"
    nbytes = sum(v.nbytes for v in _arrays(corpus).values())
    assert nbytes < 300e6


def test_mmsa_layout_and_shapes(small):
    for split, d in small.splits.items():
        n = len(d["id"])
        assert all("$_$" in i for i in d["id"])
        assert d["text"].shape == (n, 50, 32)
        assert d["audio"].shape[0] == n and d["audio"].shape[2] == len(AUDIO_FEATURES)
        assert d["vision"].shape[0] == n and d["vision"].shape[2] == len(VISION_FEATURES)
        assert (d["audio_lengths"] <= d["audio"].shape[1]).all() and (d["audio_lengths"] > 0).all()
        assert (d["vision_lengths"] <= d["vision"].shape[1]).all()
        # padding is zero
        for i in range(n):
            assert not d["audio"][i, d["audio_lengths"][i]:].any()
            assert not d["text"][i, d["text_lengths"][i]:].any()
        for key in ("regression_labels", "regression_labels_T", "regression_labels_A", "regression_labels_V"):
            assert d[key].shape == (n,) and d[key].dtype == np.float32
            assert np.abs(d[key]).max() <= 3.0
        assert [len(t.split()) for t in d["raw_text"]] == d["text_lengths"].tolist()
        assert all(len(s) == k for s, k in zip(d["word_spans"], d["text_lengths"]))


def test_aligned_view_shares_the_word_axis():
    aligned = generate_corpus(SMALL, aligned=True)
    d = aligned["train"]
    n = len(d["id"])
    assert d["audio"].shape == (n, 50, len(AUDIO_FEATURES))
    assert d["vision"].shape == (n, 50, len(VISION_FEATURES))
    assert "audio_lengths" not in d
    for i in range(n):
        k = d["text_lengths"][i]
        assert not d["audio"][i, k:].any() and d["audio"][i, :k].any()


def test_splits_are_by_speaker(full):
    speakers = {s: set(d["speaker"]) for s, d in full.splits.items()}
    assert len(speakers["train"]) == 52 and len(speakers["valid"]) == 10 and len(speakers["test"]) == 31
    assert not speakers["train"] & speakers["valid"]
    assert not speakers["train"] & speakers["test"]
    assert not speakers["valid"] & speakers["test"]


def test_multimodal_label_is_a_mean_of_integer_ratings(full):
    y = full.labels("train", "M") * 5  # 5 raters: multiples of 0.2
    assert np.allclose(y, np.round(y), atol=1e-4)
    assert 0.02 < (full.labels("train", "M") == 0).mean() < 0.15  # some neutral labels, like MOSI


def test_text_label_is_the_compositional_valence(full):
    d = full["test"]
    for text, y_t in zip(d["raw_text"], d["regression_labels_T"]):
        assert valence(text) == pytest.approx(float(y_t), abs=1e-5), text


def test_lexicon_rules_on_hand_made_sentences():
    assert valence("the movie was great") == pytest.approx(2.5)
    assert valence("the movie was very great") == pytest.approx(3.0)  # 2.5 * 1.3 clipped to 3
    assert valence("the plot was not bad") == pytest.approx(1.0)  # -0.5 * -2.0
    assert valence("the acting was bad but the ending was great") == pytest.approx(0.3 * -2.0 + 0.7 * 2.5)
    assert valence("i guess the plot was good") == pytest.approx(0.8 * 1.8)
    assert valence("the ending fell flat") == pytest.approx(-2.0)


def test_generator_follows_its_target():
    rng = np.random.default_rng(0)
    targets = rng.normal(0, 1.5, 400)
    got = [make_utterance(t, rng)[1] for t in targets]
    assert np.corrcoef(targets, got)[0, 1] > 0.9


def _speaker_centered(x, speakers):
    x = np.asarray(x, dtype=float).copy()
    speakers = np.asarray(speakers)
    for s in np.unique(speakers):
        x[speakers == s] -= x[speakers == s].mean()
    return x


def test_each_modality_carries_its_own_label(full):
    d = full["train"]
    a = AUDIO_FEATURES.index
    v = VISION_FEATURES.index
    f0 = np.array([x[:n, a("f0_hz")][x[:n, a("f0_hz")] > 0].mean() for x, n in zip(d["audio"], d["audio_lengths"])])
    smile = np.array([(x[:n, v("AU12_r")] - x[:n, v("AU15_r")] - x[:n, v("AU04_r")]).mean()
                      for x, n in zip(d["vision"], d["vision_lengths"])])
    f0_c = _speaker_centered(np.log(f0), d["speaker"])
    smile_c = _speaker_centered(smile, d["speaker"])
    r = lambda x, y: np.corrcoef(x, y)[0, 1]  # noqa: E731
    assert r(f0_c, d["regression_labels_A"]) > 0.3
    assert r(smile_c, d["regression_labels_V"]) > 0.4
    # a feature follows its own modality's label more than another modality's
    assert r(smile_c, d["regression_labels_V"]) > r(smile_c, d["regression_labels_A"]) + 0.05


def test_speakers_differ_in_style(full):
    d = full["train"]
    f0_idx = AUDIO_FEATURES.index("f0_hz")
    means = {}
    for x, n, s in zip(d["audio"], d["audio_lengths"], d["speaker"]):
        f0 = x[:n, f0_idx]
        means.setdefault(s, []).append(f0[f0 > 0].mean())
    per_speaker = np.array([np.mean(v) for v in means.values()])
    assert per_speaker.max() / per_speaker.min() > 1.5  # low and high voices


def test_fusion_beats_the_best_single_modality(full):
    """Ridge regressions on simple per-utterance statistics: each modality has signal, together more."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    def stats(d, m):
        return np.array([np.r_[x[:n].mean(0), x[:n].std(0)] for x, n in zip(d[m], d[f"{m}_lengths"])])

    tf = TfidfVectorizer(ngram_range=(1, 2)).fit(full["train"]["raw_text"])
    feats = {}
    for split in ("train", "test"):
        d = full[split]
        feats[split] = {"text": tf.transform(d["raw_text"]).toarray(), "audio": stats(d, "audio"),
                        "vision": stats(d, "vision")}

    def score(names):
        xtr = np.hstack([feats["train"][n] for n in names])
        xte = np.hstack([feats["test"][n] for n in names])
        sc = StandardScaler().fit(xtr)
        model = Ridge(alpha=300.0).fit(sc.transform(xtr), full.labels("train", "M"))
        return np.corrcoef(model.predict(sc.transform(xte)), full.labels("test", "M"))[0, 1]

    single = {m: score([m]) for m in ("text", "audio", "vision")}
    fused = score(["text", "audio", "vision"])
    assert all(r > 0.3 for r in single.values()), single
    assert single["text"] == max(single.values()), single  # text dominates, as in MOSI
    assert fused > single["text"] + 0.05, (fused, single)


def test_knobs(small):
    none = generate_corpus(SyntheticConfig.small(conflict_rate=0.0))
    assert set(none["train"]["conflict"]) == {"none"}
    many = generate_corpus(SyntheticConfig.small(conflict_rate=0.5))
    share = np.mean([c != "none" for c in many["train"]["conflict"]])
    assert 0.35 < share < 0.65
    # sarcasm: positive words, negative voice
    d = many["train"]
    sarc = np.array([c == "sarcasm" for c in d["conflict"]])
    assert (d["regression_labels_T"][sarc] > 0).all() and d["regression_labels_A"][sarc].mean() < 0
    missing = generate_corpus(SyntheticConfig.small(missing_audio=1.0))
    assert not missing["train"]["audio"].any() and missing["train"]["audio_missing"].all()
    assert missing["train"]["vision"].any()
    noisy_text = generate_corpus(SyntheticConfig.small(noise_text=0.5))
    changed = np.mean([a != b for a, b in zip(noisy_text["train"]["raw_text"], small["train"]["raw_text"])])
    assert changed > 0.5


def test_cleaner_audio_is_easier_to_read():
    def f0_corr(noise):
        c = generate_corpus(SyntheticConfig.small(noise_audio=noise))
        d = c["train"]
        i = AUDIO_FEATURES.index("hnr_db")
        h = [x[:n, i][x[:n, i] != 0].mean() for x, n in zip(d["audio"], d["audio_lengths"])]
        return np.corrcoef(_speaker_centered(h, d["speaker"]), d["regression_labels_A"])[0, 1]

    assert f0_corr(0.0) > f0_corr(3.0)


@pytest.mark.parametrize("bad", [
    {"sizes": (10, 0, 5)}, {"speakers": (20, 2, 2), "sizes": (10, 5, 5)}, {"conflict_rate": 1.5},
    {"rater_weights": (0.5, 0.5, 0.5)}, {"noise_audio": -1.0}, {"n_raters": 0},
])
def test_bad_config_is_refused_with_a_reason(bad):
    with pytest.raises(ValueError, match="SyntheticConfig"):
        SyntheticConfig(**bad)
