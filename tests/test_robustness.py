"""Chapter 13: perturbations (MMSA's missing rule, MultiBench's noise), the drop definition for
every model, MultiBench's robustness measures, and the stored robustness records."""
import numpy as np
import pytest

from mmsa_helpers import robustness_runs
from mmsa_helpers.corpus import Corpus
from mmsa_helpers.datasets import load_dataset
from mmsa_helpers.errors import ConfigError, MMSADataError
from mmsa_helpers.leaderboard import BOARD_MODELS
from mmsa_helpers.models import available_models, create, get_spec
from mmsa_helpers.robustness import (UNK_ID, UNK_WORD, drop, effective_robustness, maxmin_normalize,
                                     mmsa_missing_mask, mmsa_text_bert_mask, perturb, relative_robustness,
                                     typo_noise)

TINY = dict(sizes=(24, 8, 8), speakers=(3, 2, 2))
FAST = dict(epochs=2, progress=False, device="cpu", finetune=False, max_len=8, batch_size=8)
KEYS = {"text": {"raw_text", "text", "text_bert", "text_lengths"},
        "audio": {"audio", "audio_lengths", "audio_missing"},
        "vision": {"vision", "vision_lengths", "vision_missing"}}
MINILM = {"text_bert", "text_bert_ft", "self_mm"}


@pytest.fixture(scope="module")
def tiny():
    return {False: load_dataset("synthetic", **TINY), True: load_dataset("synthetic", aligned=True, **TINY)}


def changed_keys(a: Corpus, b: Corpus) -> set[str]:
    out = set()
    for s in a:
        for k, v in a[s].items():
            w = b[s][k]
            same = np.array_equal(np.asarray(v), np.asarray(w)) if not isinstance(v, list) else list(v) == list(w)
            if not same:
                out.add(k)
    return out


@pytest.mark.parametrize("kind", ["missing", "noise"])
@pytest.mark.parametrize("modality", ["text", "audio", "vision"])
def test_perturb_changes_only_the_named_modality_and_is_seeded(tiny, kind, modality):
    corpus = tiny[False]
    before = {s: {k: np.array(v, copy=True) if isinstance(v, np.ndarray) else list(v) for k, v in d.items()}
              for s, d in corpus.splits.items()}
    out = perturb(corpus, modality, kind, 0.6, seed=3)
    assert isinstance(out, Corpus) and out is not corpus
    changed = changed_keys(corpus, out)
    assert changed and changed <= KEYS[modality], changed
    assert changed_keys(corpus, Corpus(corpus.name, before, corpus.aligned)) == set()   # input untouched
    assert changed_keys(out, perturb(corpus, modality, kind, 0.6, seed=3)) == set()     # same seed, same corpus
    assert changed_keys(out, perturb(corpus, modality, kind, 0.6, seed=4))              # other seed, other corpus
    assert changed_keys(corpus, perturb(corpus, modality, kind, 0.0, seed=3)) == set()  # level 0: clean
    only_test = perturb(corpus, modality, kind, 0.6, seed=3, splits=("test",))
    assert only_test["train"] is corpus["train"] and changed_keys(only_test, out) <= KEYS[modality]
    assert out.info["perturbations"][-1] == {"modality": modality, "kind": kind, "level": 0.6, "seed": 3,
                                             "splits": ["train", "valid", "test"]}


def test_all_perturbs_the_three_modalities(tiny):
    changed = changed_keys(tiny[False], perturb(tiny[False], "all", "missing", 0.5))
    assert {"raw_text", "text", "audio", "vision"} <= changed <= set().union(*KEYS.values())


def test_mmsa_masking_matches_a_hand_computed_example():
    # RandomState(1111).uniform(size=(2, 4)) = [[.096 .925 .344 .310], [.002 .236 .238 .736]]
    keep = mmsa_missing_mask(np.array([3, 2]), 4, 0.3, seed=1111)
    assert keep.tolist() == [[False, True, True, False], [False, False, False, False]]
    # text_bert: draws [.076 .780 .438 .723 .978 .538]; [CLS] and [SEP] are kept, the rest -> 100 when <= 0.5
    tb = np.array([[[101, 11, 12, 13, 102, 0], [1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0]]], dtype=np.float32)
    assert mmsa_text_bert_mask(tb, 0.5, seed=7).tolist() == [[101, 11, UNK_ID, 13, 102, 0]]
    # a corpus: utterance 0 keeps frames 1 and 2; utterance 1 loses every frame and gets length 0
    audio = np.ones((2, 4, 2), np.float32)
    split = {"id": ["a", "b"], "raw_text": ["w x y", "u v"], "text": np.ones((2, 4, 3), np.float32),
             "text_lengths": np.array([3, 2]), "audio": audio, "audio_lengths": np.array([3, 2]),
             "regression_labels": np.zeros(2, np.float32)}
    corpus = Corpus("toy", {"train": split, "valid": split, "test": split})
    a = perturb(corpus, "audio", "missing", 0.3, seed=1111)["test"]
    assert a["audio"][:, :, 0].tolist() == [[0, 1, 1, 0], [0, 0, 0, 0]] and a["audio_lengths"].tolist() == [3, 0]
    t = perturb(corpus, "text", "missing", 0.3, seed=1111)["test"]
    assert t["raw_text"] == [f"{UNK_WORD} x y", f"{UNK_WORD} {UNK_WORD}"]
    assert t["text"][:, :, 0].tolist() == [[0, 1, 1, 1], [0, 0, 1, 1]]   # padding is left as it was


def mmsa_generate_m(modality, input_mask, input_len, missing_rate, missing_seed, mode):
    """MMSA 2.2's MMDataset.generate_m, copied (src/MMSA/data_loader.py)."""
    if mode == 'text':
        input_len = np.argmin(input_mask, axis=1)
    elif mode == 'audio' or mode == 'vision':
        input_mask = np.array([np.array([1] * length + [0] * (modality.shape[1] - length)) for length in input_len])
    np.random.seed(missing_seed)
    missing_mask = (np.random.uniform(size=input_mask.shape) > missing_rate) * input_mask
    if mode == 'text':
        for i, instance in enumerate(missing_mask):
            instance[0] = instance[input_len[i] - 1] = 1
        modality_m = missing_mask * modality + (100 * np.ones_like(modality)) * (input_mask - missing_mask)
    else:
        modality_m = missing_mask.reshape(modality.shape[0], modality.shape[1], 1) * modality
    return modality_m, input_len, input_mask, missing_mask


def test_mmsa_rule_is_mmsas_own_code():
    rng = np.random.default_rng(0)
    audio, lengths = rng.normal(size=(5, 9, 3)).astype(np.float32), [9, 4, 6, 1, 7]
    ref = mmsa_generate_m(audio, None, lengths, 0.4, 1111, "audio")[0]
    split = {"id": list("abcde"), "audio": audio, "audio_lengths": np.array(lengths),
             "regression_labels": np.zeros(5, np.float32)}
    ours = perturb(Corpus("toy", {"test": split}), "audio", "missing", 0.4, seed=1111)["test"]["audio"]
    np.testing.assert_array_equal(ours, ref)
    ids = rng.integers(1000, 2000, size=(5, 8))
    mask = (np.arange(8)[None] < np.array([[8], [3], [5], [2], [6]])).astype(int)
    ids[:, 0] = 101
    tb = np.stack([ids * mask, mask, np.zeros_like(mask)], axis=1)
    ref_ids = mmsa_generate_m(tb[:, 0].copy(), tb[:, 1].copy(), None, 0.4, 1111, "text")[0]
    np.testing.assert_array_equal(mmsa_text_bert_mask(tb, 0.4, seed=1111), ref_ids)


def test_typo_noise_follows_multibench():
    words = "terrible wonderful movie ok it is"
    assert typo_noise([words], 0.0, seed=0) == [words]
    noisy = typo_noise([words], 1.0, seed=0)[0].split()
    assert noisy[3:] == ["ok", "it", "is"]                  # words shorter than five characters are kept
    assert all(a != b for a, b in zip(noisy[:2], words.split()[:2]))
    assert len(noisy) == 6


def test_noise_on_frames_scales_with_level_and_drops_frames(tiny):
    c = tiny[False]
    x = c["test"]["audio"]
    n = c["test"]["audio_lengths"]
    real = np.arange(x.shape[1])[None] < n[:, None]
    low, high = (perturb(c, "audio", "noise", lvl, seed=0)["test"]["audio"] for lvl in (0.1, 0.9))
    assert np.all(low[~real] == 0) and np.all(high[~real] == 0)           # padding stays padding
    kept_low = np.abs(low).sum(2)[real] > 0
    kept_high = np.abs(high).sum(2)[real] > 0
    assert kept_low.mean() > 0.8 > 0.3 > kept_high.mean()
    assert np.abs(low - x)[real & (np.abs(low).sum(2) > 0)].mean() < np.abs(high - x)[real & (np.abs(high).sum(2) > 0)].mean()


@pytest.mark.parametrize("bad", [
    dict(modality="smell"), dict(kind="blur"), dict(level=1.5), dict(level=-0.1), dict(level=float("nan")),
    dict(level="0.3"), dict(level=True)])
def test_bad_input_is_refused(tiny, bad):
    args = {"modality": "audio", "kind": "missing", "level": 0.3, **bad}
    with pytest.raises(ConfigError):
        perturb(tiny[False], **args)


def test_a_modality_the_corpus_lacks_is_refused(tiny):
    text_only = Corpus("t", {s: {k: d[k] for k in ("id", "raw_text", "regression_labels")}
                             for s, d in tiny[False].splits.items()})
    with pytest.raises(MMSADataError, match="no 'audio'"):
        perturb(text_only, "audio", "noise", 0.2)
    assert changed_keys(text_only, perturb(text_only, "all", "missing", 0.5)) == {"raw_text"}


def test_multibench_measures_on_hand_computed_curves():
    assert relative_robustness([1.0, 1.0]) == pytest.approx(0.1)
    assert relative_robustness([0.8, 0.6, 0.4]) == pytest.approx((0.8 + 0.6) * 0.05 + (0.6 + 0.4) * 0.05)   # 0.12
    # f = [0.8, 0.7, 0.7]; late fusion [0.9, 0.7, 0.5] moved to start at 0.8: [0.8, 0.6, 0.4]; gaps 0 + 0.1 + 0.3
    assert effective_robustness([0.8, 0.7, 0.7], [0.9, 0.7, 0.5]) == pytest.approx(0.4)
    assert effective_robustness([0.9, 0.7, 0.5], [0.9, 0.7, 0.5]) == 0.0
    assert maxmin_normalize({"a": 1.0, "b": 3.0, "c": 2.0}) == {"a": 0.0, "b": 1.0, "c": 0.5}
    assert maxmin_normalize({"a": 1.0, "b": 3.0}, lower_is_better=True) == {"a": 1.0, "b": 0.0}
    with pytest.raises(ConfigError):
        effective_robustness([1, 2, 3], [1, 2])
    with pytest.raises(ConfigError):
        maxmin_normalize({"a": 1.0, "b": 1.0})


def reads(name):
    """The modalities a model's predictions depend on."""
    needs = set(get_spec(name).needs)
    return {m for m in ("text", "audio", "vision") if m in needs or (m == "text" and "raw_text" in needs)}


def fast(name):
    return {k: v for k, v in FAST.items() if k in get_spec(name).defaults}


@pytest.fixture(scope="module")
def fitted(tiny):
    return {name: create(name, **fast(name)).fit(tiny[get_spec(name).aligned], seed=0)
            for name in available_models()}


def frames_variant(corpus, modality, how):
    """A frame stream made absent three ways: dropped; lengths 0 with the frames left; frames 0 with lengths kept."""
    if how == "drop":
        return drop(corpus, modality)
    splits = {}
    for s, d in corpus.splits.items():
        d = dict(d)
        if how == "length0" and f"{modality}_lengths" in d:
            d[f"{modality}_lengths"] = np.zeros_like(d[f"{modality}_lengths"])
        elif how == "zeros":
            d[modality] = np.zeros_like(d[modality])
        splits[s] = d
    return Corpus(corpus.name, splits, corpus.aligned, corpus.label_range)


@pytest.mark.parametrize("name", sorted(available_models()))
def test_drop_means_the_same_for_every_model(tiny, fitted, name):
    model, corpus = fitted[name], tiny[get_spec(name).aligned]
    clean = model.predict(corpus, "test")
    for m in ("text", "audio", "vision"):
        if m not in reads(name):   # a model that does not read a modality is unchanged by perturbing it
            for kind in ("missing", "noise"):
                np.testing.assert_array_equal(model.predict(perturb(corpus, m, kind, 0.7, seed=1), "test"), clean)
            continue
        dropped = model.predict(drop(corpus, m), "test")
        if m == "text":
            # dropped text reads as text of words never seen in training (MiniLM's models read the
            # unknown token itself, id 100: test_unknown_word_is_each_text_model_s_unknown_token)
            if name in MINILM:
                continue
            other = {s: {**d, "raw_text": [" ".join("qqzx" for _ in t.split()) for t in d["raw_text"]]}
                     for s, d in corpus.splits.items()}
            if "text" in corpus["test"]:
                for d in other.values():
                    d["text"] = np.zeros_like(d["text"])
            other = Corpus(corpus.name, other, corpus.aligned, corpus.label_range)
            np.testing.assert_allclose(model.predict(other, "test"), dropped, atol=1e-6)
            continue
        for how in ("zeros",) if corpus.aligned else ("zeros", "length0"):
            np.testing.assert_allclose(model.predict(frames_variant(corpus, m, how), "test"), dropped, atol=1e-6,
                                       err_msg=f"{name}: {m} dropped vs {how}")


def test_unknown_word_is_each_text_model_s_unknown_token(fitted):
    from mmsa_helpers.pretrained import bert_inputs

    ids = bert_inputs([f"{UNK_WORD} {UNK_WORD} {UNK_WORD}"], max_len=6)[0, 0].tolist()
    assert ids[:5] == [101, UNK_ID, UNK_ID, UNK_ID, 102]          # MiniLM/BERT read it as [UNK] (id 100)
    vocab = fitted["text_lstm"].vocab
    assert vocab.encode([UNK_WORD])[0][0, 0] == 1 and vocab.words[1] == "<unk>"
    assert fitted["tfidf_svm"].vectorizer_.transform([UNK_WORD]).nnz == 0


def test_the_board_models_are_the_records_models():
    assert set(BOARD_MODELS) <= set(available_models())
    assert robustness_runs.BASELINE in BOARD_MODELS


def test_stored_records_are_complete_and_not_stale():
    missing = [m for m in BOARD_MODELS if not robustness_runs.record_path(m).exists()]
    assert not missing, f"make them: python -m mmsa_helpers robustness ({missing})"
    records = robustness_runs.collect(log=None)
    ids = {aligned: list(load_dataset("synthetic", aligned=aligned)["test"]["id"]) for aligned in (False, True)}
    for name, rec in records.items():
        assert rec["robustness"]["ids"] == ids[get_spec(name).aligned], f"{name}: the corpus changed since"
        assert not robustness_runs.stale(rec), (name, robustness_runs.stale(rec))
        grid = rec["robustness"]["grid"]
        assert all(len(grid[k][m]) == 11 for k in grid for m in grid[k])
        assert len(rec["robustness"]["predictions"]["clean"]) == rec["dataset"]["sizes"]["test"]
        # level 0 is the clean test set, so it repeats the record's own test metrics
        assert grid["missing"]["text"][0] == rec["per_seed"][0]["test"]
    frame = robustness_runs.robustness_frame(records)
    assert frame["relative_norm"].between(0, 1).all()
    assert frame.loc[(robustness_runs.BASELINE, "audio"), "effective"] == 0.0


def test_sonify_hums_the_frames_and_a_dropped_stream_is_silent(tiny):
    from mmsa_helpers.speech.sonify import sonify

    c = tiny[False]
    d, names = c["test"], c.audio_features
    n = int(d["audio_lengths"][0])
    y = sonify(d["audio"][0, :n], names, fps=c.info["audio_fps"])
    assert y.dtype == np.float32 and len(y) == round(n / c.info["audio_fps"] * 16000)
    assert 0.5 < np.abs(y).max() <= 0.9 + 1e-6
    gone = drop(c, "audio")["test"]
    assert not sonify(gone["audio"][0, :n], names).any()
    assert sonify(gone["audio"][0, :0], names).size == 0
    with pytest.raises(MMSADataError, match="f0_hz"):
        sonify(d["audio"][0, :n, 1:], names[1:])


def test_cli_refuses_bad_requests(capsys):
    from mmsa_helpers.cli import main

    assert main(["robustness", "-m", "tfn", "--models", "A", "--save", "B"]) == 2
    assert main(["robustness", "-m", "no_such_model"]) == 2
    assert "unknown model" in capsys.readouterr().err


def test_a_saved_model_with_other_settings_is_refused(tiny, fitted, tmp_path):
    from mmsa_helpers.saving import load_model, save_model

    path = save_model(fitted["audio_tcn"], tmp_path / "audio_tcn-seed0.pt")   # trained with epochs=2
    with pytest.raises(MMSADataError, match="other settings"):
        robustness_runs._loaded_record("audio_tcn", load_model(path), tiny[False])


def test_a_record_re_made_from_its_model_matches():
    """The lexicon needs no training, so its stored grid can be re-scored here in a second:
    a change to the perturbations that the grid definition does not show makes this fail."""
    from mmsa_helpers.experiment import load_for_model
    from mmsa_helpers.metrics import eval_regression

    record = robustness_runs.collect(["lexicon"], log=None)["lexicon"]
    corpus = load_for_model("synthetic", "lexicon")
    model = create("lexicon").fit(corpus)
    for kind, level in (("missing", 0.4), ("noise", 0.7)):
        pred = model.predict(perturb(corpus, "text", kind, level, splits=("test",)), "test")
        live = eval_regression(pred, corpus.labels("test"))
        stored = record["robustness"]["grid"][kind]["text"][robustness_runs.LEVELS.index(level)]
        assert all(abs(live[m] - stored[m]) <= 1e-3 for m in stored), (kind, level)
