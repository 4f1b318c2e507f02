"""Chapter 7 (speech): synthetic voice, acoustic features, emotion classifiers, EMO-DB path."""
import numpy as np
import pytest
import soundfile as sf

from mmsa_helpers.errors import MMSADataError
from mmsa_helpers.speech import EMOTIONS, make_corpus, make_speaker, synthesize
from mmsa_helpers.speech import features as feats
from mmsa_helpers.speech.emotion import cross_validate, evaluate_emodb, fit_predict, model_inputs, speaker_zscore

SR = 16000


def test_synthesis_is_deterministic_and_in_range():
    a = synthesize("anger", 1, seed=3)
    b = synthesize("anger", 1, seed=3)
    c = synthesize("anger", 1, seed=4)
    assert a.dtype == np.float32 and a.shape == (int(1.5 * SR),)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.abs(a).max() <= 1.0 and np.isfinite(a).all()


@pytest.mark.parametrize("emotion,speaker", [("neutral", 0), ("sadness", 1), ("anger", 3)])
def test_synthesis_has_the_intended_f0(emotion, speaker):
    import librosa

    y, info = synthesize(emotion, speaker, seed=0, return_info=True)
    est = librosa.yin(y, fmin=60, fmax=600, sr=SR, frame_length=1024, hop_length=160)
    voiced = info["voiced"][::160]
    target = info["f0"][::160]
    est = est[: len(voiced)]
    assert voiced.sum() > 50
    assert abs(np.median(est[voiced]) / np.median(target[voiced]) - 1) < 0.05


def test_emotions_change_loudness_and_pitch():
    def rms(e):
        return np.mean([np.sqrt(np.mean(synthesize(e, s, seed=0) ** 2)) for s in range(4)])

    assert rms("anger") > 2 * rms("sadness")
    f0 = {e: np.mean([synthesize(e, s, return_info=True)[1]["f0"].mean() / make_speaker(s).f0 for s in range(4)])
          for e in ("anger", "sadness")}
    assert f0["anger"] > 1.15 * f0["sadness"]
    with pytest.raises(ValueError, match="unknown emotion"):
        synthesize("joyful", 0)


def test_make_corpus_layout():
    c = make_corpus(n_speakers=2, n_per_emotion=1, seed=1)
    d = c["all"]
    assert len(d["id"]) == 2 * len(EMOTIONS) == len(d["audio"]) == len(d["speaker"]) == len(d["emotion"])
    assert set(d["speaker"]) == {"s00", "s01"} and set(d["gender"]) == {"female", "male"}
    assert d["sr"][0] == SR and d["audio"][0].dtype == np.float32


def test_feature_shapes():
    y = synthesize("happiness", 0, seed=0)
    f = feats.utterance_features(y, SR)
    T = f["lld"].shape[0]
    assert abs(T - len(y) // feats.HOP) <= 2
    assert f["lld"].shape == (T, len(feats.DESCRIPTOR_NAMES))
    assert f["logmel"].shape == (T, feats.N_MELS)
    assert f["functionals"].shape == (len(feats.functional_names()),)
    assert np.isfinite(f["functionals"]).all()
    # F0 mean of the functionals matches the synthesiser's register (semitones above A0)
    _, info = synthesize("happiness", 0, seed=0, return_info=True)
    f0_mean = f["functionals"][feats.functional_names().index("logf0_p50")]
    assert abs(f0_mean - 12 * np.log2(np.median(info["f0"][info["voiced"]]) / 27.5)) < 1.0


def test_speaker_zscore():
    x = np.array([[1.0, 10], [3, 30], [100, 5], [300, 7]])
    z = speaker_zscore(x, ["a", "a", "b", "b"])
    assert np.allclose(z.mean(0), 0) and np.allclose(z[:2].std(0), 1, atol=1e-3)
    seqs = speaker_zscore([np.ones((3, 2)), 3 * np.ones((5, 2))], ["a", "a"])
    assert np.allclose(np.concatenate(seqs).mean(0), 0, atol=1e-5)


@pytest.fixture(scope="module")
def tiny_features():
    c = make_corpus(n_speakers=3, n_per_emotion=2, seed=0, duration=0.8)["all"]
    return c, feats.extract_waveforms(c["audio"])


@pytest.mark.parametrize("model", ["svm", "cnn", "gru"])
def test_models_fit_a_tiny_set(tiny_features, model):
    from mmsa_helpers.training import TrainConfig

    c, f = tiny_features
    keep = np.flatnonzero(np.asarray(c["speaker"]) == "s00")     # 14 utterances of one speaker
    f, emotions, speakers = [f[i] for i in keep], [c["emotion"][i] for i in keep], [c["speaker"][i] for i in keep]
    classes = sorted(set(emotions))
    y = np.array([classes.index(e) for e in emotions])
    x = model_inputs(f, model, speakers)
    cfg = TrainConfig(epochs=40, lr=1e-2, patience=40, progress=False, device="cpu")
    if model == "svm":
        pred = fit_predict(model, x, y, x, len(classes))
    else:  # overfit: validate on the training data itself
        import torch

        from mmsa_helpers.speech.emotion import Batches, build_network, cross_entropy, predict_network
        from mmsa_helpers.training import fit_regressor

        torch.manual_seed(0)
        net = build_network(model, len(classes), x[0].shape[1])
        fit_regressor(net, Batches(x, y, batch_size=8, shuffle=True), Batches(x, y), cfg, loss_fn=cross_entropy)
        pred = predict_network(net, x)
    assert np.mean(pred == y) >= 0.9


def test_cross_validate_loso_never_tests_on_a_training_speaker(tiny_features):
    c, f = tiny_features
    r = cross_validate(f, c["emotion"], c["speaker"], model="svm", split="loso")
    assert set(r["per_speaker"]) == {"s00", "s01", "s02"}
    assert 0 <= r["UAR"] <= 1 and r["confusion"].shape == (7, 7)
    assert np.allclose(r["confusion"].sum(1), 1)
    assert {"accuracy", "UAR", "weighted_F1", "macro_F1"} <= set(r)


def _write_fixture(folder, speakers=("03", "08"), emotions="WT"):
    folder.mkdir(parents=True)
    letter = {"W": "anger", "T": "sadness"}
    for spk in speakers:
        for e in emotions:
            for k, sentence in enumerate(("a01", "a02", "b01")):
                y = synthesize(letter[e], int(spk) % 4, seed=k, duration=0.6)
                sf.write(folder / f"{spk}{sentence}{e}a.wav", y, SR)


def test_emodb_path_on_fixture_wavs(tmp_path, monkeypatch):
    monkeypatch.setenv("MMSA_CACHE_DIR", str(tmp_path / "cache"))
    _write_fixture(tmp_path / "A" / "EMODB" / "wav")
    _write_fixture(tmp_path / "B" / "EMODB" / "wav", speakers=("10", "09"))
    r = evaluate_emodb(tmp_path / "A", model="svm")
    assert r["n"] == 12 and set(r["per_speaker"]) == {"03", "08"} and 0 <= r["UAR"] <= 1
    cached = list((tmp_path / "cache" / "speech").glob("*.npz"))
    assert len(cached) == 12
    r2 = evaluate_emodb(tmp_path / "A", tmp_path / "B", model="svm")
    assert r2["n"] == 12 and r2["UAR"] >= 0.5
    with pytest.raises(ValueError, match="both folders"):
        evaluate_emodb(tmp_path / "A", tmp_path / "A")


def test_emodb_folder_without_valid_names_raises(tmp_path):
    folder = tmp_path / "EMODB" / "wav"
    folder.mkdir(parents=True)
    sf.write(folder / "hello.wav", np.zeros(1600, np.float32), SR)
    with pytest.raises(MMSADataError, match="not named like EMO-DB"):
        evaluate_emodb(tmp_path)
