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


@pytest.mark.parametrize("model", ["svm", "cnn", "lstm", "gru", "tcn"])
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
        if model in ("lstm", "gru"):  # attention weights: one per frame, summing to 1
            pred2, weights = predict_network(net, x, return_weights=True)
            assert np.array_equal(pred, pred2)
            assert [len(w) for w in weights] == [len(s) for s in x]
            assert np.allclose([w.sum() for w in weights], 1, atol=1e-5)
        elif model == "tcn":
            with pytest.raises(ValueError, match="no attention"):
                predict_network(net, x, return_weights=True)
    assert np.mean(pred == y) >= 0.9


def test_cross_validate_loso_never_tests_on_a_training_speaker(tiny_features):
    c, f = tiny_features
    r = cross_validate(f, c["emotion"], c["speaker"], model="svm", split="loso")
    assert set(r["per_speaker"]) == {"s00", "s01", "s02"}
    assert r["confusion"].shape == (7, 7) and np.allclose(r["confusion"].sum(axis=1), 1)
    assert r["UAR"] == pytest.approx(np.mean(np.diag(r["confusion"].to_numpy())))  # mean recall of the 7
    assert r["UAR"] > 2 / 7                                   # twice chance (measured 0.57) on unheard voices
    assert {"accuracy", "UAR", "weighted_F1", "macro_F1"} <= set(r)


def test_speaker_folds_keep_speakers_whole(tiny_features, monkeypatch):
    import mmsa_helpers.speech.emotion as emo

    c, f = tiny_features
    seen = []
    real = emo.fit_predict

    def spy(model, x_train, y_train, x_test, n_classes, seed=0, **settings):
        seen.append((len(y_train), len(x_test)))
        return real(model, x_train, y_train, x_test, n_classes, seed=seed, **settings)

    monkeypatch.setattr(emo, "fit_predict", spy)
    r = emo.cross_validate(f, c["emotion"], c["speaker"], model="svm", split="speaker_folds", n_folds=3)
    assert seen == [(28, 14)] * 3 and set(r["per_speaker"]) == {"s00", "s01", "s02"}
    with pytest.raises(ValueError, match="at least 4 speakers"):
        emo.cross_validate(f, c["emotion"], c["speaker"], model="svm", split="speaker_folds", n_folds=4)


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
    assert r["n"] == 12 and set(r["per_speaker"]) == {"03", "08"}
    assert r["UAR"] >= 0.75 and min(r["per_speaker"].values()) >= 0.5  # anger vs sadness: far above chance (1.0)
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


def test_model_names_and_settings_are_checked(tiny_features):
    from mmsa_helpers.speech.emotion import canonical_model

    assert canonical_model("audio_cnn") == "cnn" and canonical_model("gru") == "gru"
    with pytest.raises(ValueError, match="audio_svm, audio_cnn"):
        canonical_model("audio_transformer")
    c, f = tiny_features
    with pytest.raises(ValueError, match="unknown speech-emotion setting"):
        cross_validate(f, c["emotion"], c["speaker"], model="svm", C_value=3)
    with pytest.raises(ValueError, match="at least two speakers"):
        cross_validate(f[:7], c["emotion"][:7], ["s00"] * 7, model="svm")
    with pytest.raises(ValueError, match="feature sets"):
        cross_validate(f, c["emotion"][:3], c["speaker"], model="svm")


def test_waveform_features_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("MMSA_CACHE_DIR", str(tmp_path))
    ys = [synthesize("anger", 0, seed=k, duration=0.5) for k in range(2)]
    first = feats.extract_waveforms(ys, SR, cache=True)
    assert len(list((tmp_path / "speech").glob("*.npz"))) == 2
    again = feats.extract_waveforms(ys, SR, cache=True)
    for a, b in zip(first, again):
        assert all(np.array_equal(a[k], b[k]) for k in a)


def test_unreadable_wav_gets_a_clear_error(tmp_path):
    folder = tmp_path / "EMODB" / "wav"
    folder.mkdir(parents=True)
    (folder / "03a01Wa.wav").write_bytes(b"RIFF not really a wav file")
    with pytest.raises(MMSADataError, match="could not be read as audio"):
        feats.extract_files([folder / "03a01Wa.wav"], cache=False)
    sf.write(folder / "03a02Wa.wav", np.zeros(100, np.float32), SR)
    with pytest.raises(MMSADataError, match="at least"):
        feats.extract_files([folder / "03a02Wa.wav"], cache=False)


def test_synthetic_speech_is_a_dataset():
    from mmsa_helpers.datasets import list_datasets, load_dataset

    c = load_dataset("synthetic_speech", n_speakers=2, n_per_emotion=1, duration=0.5)
    assert len(c["all"]["id"]) == 14 and c.name == "synthetic_speech"
    with pytest.raises(TypeError, match="n_speakers"):
        load_dataset("synthetic_speech", speakers=3)
    table = list_datasets()
    assert table.set_index("name").loc["synthetic_speech", "available"] == "yes (built in)"


def _cli_json(capsys, argv):
    import json

    from mmsa_helpers.cli import main

    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_trains_emotion_models_on_emodb_folders(tmp_path, monkeypatch, capsys):
    import json

    from mmsa_helpers.cli import main

    monkeypatch.setenv("MMSA_CACHE_DIR", str(tmp_path / "cache"))
    _write_fixture(tmp_path / "A" / "EMODB" / "wav")
    _write_fixture(tmp_path / "B" / "wav", speakers=("10", "09"))
    loso = _cli_json(capsys, ["train", "-d", "emodb", "--data-root", str(tmp_path / "A"), "-m", "audio_svm"])
    assert loso["protocol"] == "leave-one-speaker-out" and loso["test_speakers"] == ["03", "08"]
    assert loso["n_test"] == 12 and set(loso["test"]) >= {"accuracy", "UAR", "weighted_F1"}
    assert loso["confusion"]["labels"] == ["anger", "sadness"]
    out = tmp_path / "ab.json"
    ab = _cli_json(capsys, ["train", "-d", "emodb", "--data-root", str(tmp_path / "A"), "-m", "audio_gru",
                            "--eval-root", str(tmp_path / "B" / "wav"), "-s", "0", "-s", "1",
                            "--set", "epochs=3", "--json", str(out)])
    assert ab["train_speakers"] == ["03", "08"] and ab["test_speakers"] == ["09", "10"]
    assert ab["n_train"] == 12 and ab["n_test"] == 12 and [r["seed"] for r in ab["per_seed"]] == [0, 1]
    assert ab["config"]["epochs"] == 3 and json.loads(out.read_text()) == ab
    seed_uar = [r["test"]["UAR"] for r in ab["per_seed"]]
    assert ab["test"]["UAR"]["mean"] == pytest.approx(np.mean(seed_uar), abs=1e-4)
    assert ab["test"]["UAR"]["std"] == pytest.approx(np.std(seed_uar), abs=1e-4)
    # errors: same speakers on both sides, a missing folder, an unknown model or setting
    argv = ["train", "-d", "emodb", "--data-root", str(tmp_path / "A"), "-m", "audio_svm"]
    assert main(argv + ["--eval-root", str(tmp_path / "A")]) == 2
    assert "disjoint speakers" in capsys.readouterr().err
    assert main(["train", "-d", "emodb", "--data-root", str(tmp_path / "nowhere"), "-m", "audio_svm"]) == 2
    assert "emodb" in capsys.readouterr().err.lower()
    assert main(argv[:-1] + ["text_lstm"]) == 2
    assert "audio_svm" in capsys.readouterr().err
    assert main(argv + ["--set", "n_speakers=3"]) == 2
    assert "synthetic_speech only" in capsys.readouterr().err
    assert main(["train", "-d", "synthetic", "-m", "text_lstm", "--eval-root", str(tmp_path)]) == 2
    assert "speech-emotion" in capsys.readouterr().err
    assert main(["train", "-d", "synthetic", "-m", "audio_cnn"]) == 2
    assert "speech-emotion model" in capsys.readouterr().err


def test_cli_accepts_the_unpacked_official_download_for_both_roots(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MMSA_CACHE_DIR", str(tmp_path / "cache"))
    for name, speakers in (("train_download", ("03", "08")), ("eval_download", ("10", "09"))):
        _write_fixture(tmp_path / name / "wav", speakers=speakers)   # what emodb.zip unpacks to: wav/ ...
        (tmp_path / name / "lablaut").mkdir()                        # ... next to the label folders
    rec = _cli_json(capsys, ["train", "-d", "emodb", "--data-root", str(tmp_path / "train_download"),
                             "--eval-root", str(tmp_path / "eval_download"), "-m", "audio_svm"])
    assert rec["train_speakers"] == ["03", "08"] and rec["test_speakers"] == ["09", "10"]
    assert rec["n_train"] == 12 and rec["n_test"] == 12


def test_cli_trains_on_the_generated_voices(capsys):
    rec = _cli_json(capsys, ["train", "-d", "synthetic_speech", "-m", "audio_svm", "--set", "n_speakers=3",
                             "--set", "n_per_emotion=1", "--set", "duration=0.6"])
    assert rec["test_speakers"] == ["s00", "s01", "s02"] and rec["n_test"] == 21
    assert rec["config"]["n_speakers"] == 3 and rec["test"]["UAR"]["std"] == 0   # one seed
    assert rec["test"]["UAR"]["mean"] > 1 / 7                 # above chance for 7 emotions (measured 0.29)


def test_cli_lists_both_kinds_of_model(capsys):
    from mmsa_helpers.cli import main

    assert main(["train", "-m", "list"]) == 0
    out = capsys.readouterr().out
    assert "audio_cnn" in out and "text_bert" in out and "Speech emotion" in out


def test_networks_train_on_small_folds(tiny_features):
    from mmsa_helpers.speech.emotion import train_network

    c, f = tiny_features
    x = model_inputs(f[:14], "tcn", c["speaker"][:14])          # one speaker: 2 utterances per emotion
    y = np.array([sorted(EMOTIONS).index(e) for e in c["emotion"][:14]])
    net = train_network("tcn", x, y, 7, epochs=2)                # validation: 7 utterances, one per class
    from mmsa_helpers.models.sequence import TemporalConvNet
    from mmsa_helpers.speech.emotion import predict_network

    assert isinstance(net, TemporalConvNet)
    pred = predict_network(net, x)
    assert pred.shape == (14,) and set(pred.tolist()) <= set(range(7))
    with pytest.raises(ValueError, match="too few"):
        train_network("tcn", x[:9], y[:9], 7, epochs=1)
