"""Latency measurement (chapter 14): what is timed, its structure, the records and refusals."""
from pathlib import Path

import numpy as np
import pytest
import torch

import mmsa_helpers
from mmsa_helpers import latency
from mmsa_helpers.cli import main
from mmsa_helpers.errors import ConfigError, MMSADataError, UserError
from mmsa_helpers.leaderboard import BOARD_MODELS
from mmsa_helpers.models import create
from mmsa_helpers.records import load_record, save_record

ROOT = Path(__file__).resolve().parent.parent
STORED = ROOT / "book" / "records" / "latency"
ROW_KEYS = {"batch_size", "repeats", "median_ms", "p95_ms", "ms_per_utterance", "utterances_per_s"}


@pytest.fixture(scope="module")
def small():
    return mmsa_helpers.load_dataset("synthetic", sizes=(60, 20, 40), speakers=(6, 2, 4))


@pytest.fixture(scope="module")
def fitted(small):
    torch.set_num_threads(1)
    return create("tfn", epochs=1, progress=False, device="cpu").fit(small, seed=0)


def test_subset_keeps_the_rows_asked_for(small):
    sub = latency.subset(small, "test", [3, 0])
    assert list(sub.splits) == ["test"]
    assert sub["test"]["id"] == [small["test"]["id"][3], small["test"]["id"][0]]
    assert np.array_equal(sub["test"]["audio"], small["test"]["audio"][[3, 0]])
    assert sub.info is small.info
    with pytest.raises(ConfigError, match="row numbers"):
        latency.subset(small, "test", [40])


def test_requests_are_distinct_and_reproducible(small):
    reqs = latency.requests(small, "test", 8, n_distinct=10, seed=0)
    assert len(reqs) == 5                         # 40 utterances hold 5 distinct requests of 8
    ids = [i for r in reqs for i in r["test"]["id"]]
    assert len(set(ids)) == 40
    again = latency.requests(small, "test", 8, n_distinct=10, seed=0)
    assert [r["test"]["id"] for r in again] == [r["test"]["id"] for r in reqs]
    with pytest.raises(ConfigError, match="larger than split"):
        latency.requests(small, "test", 41)


def test_summarise_by_hand():
    row = latency.summarise(np.array([0.001, 0.002, 0.003, 0.004]), batch_size=2)
    assert row["median_ms"] == 2.5 and row["ms_per_utterance"] == 1.25
    assert row["utterances_per_s"] == 800.0 and row["repeats"] == 4
    assert row["p95_ms"] == pytest.approx(3.85)


def test_time_calls_warms_up_every_input_then_cycles():
    seen = []
    sec = latency.time_calls(seen.append, ["a", "b"], repeats=3, warmup=1)
    assert seen == ["a", "b", "a", "b", "a"] and sec.shape == (3,) and (sec >= 0).all()
    with pytest.raises(ConfigError, match="repeats"):
        latency.time_calls(seen.append, ["a"], repeats=0)


def test_measure_latency_structure_and_batch_sizes(small, fitted):
    before = torch.get_num_threads()
    out = latency.measure_latency(fitted, small, "test", batch_sizes=(1, 4, 16), repeats=3, threads=1)
    assert torch.get_num_threads() == before      # the thread setting is restored
    assert set(out) == {"model", "split", "device", "threads", "repeats", "warmup", "batches", "encoder",
                        "encoder_settings", "features_timed"}
    assert out["model"] == "tfn" and out["device"] == "cpu" and out["threads"] == 1
    assert out["encoder"] is None and out["features_timed"] is False
    assert [r["batch_size"] for r in out["batches"]] == [1, 4, 16]
    for r in out["batches"]:
        assert set(r) == ROW_KEYS and r["repeats"] == 3
        assert 0 < r["median_ms"] <= r["p95_ms"] + 1e-9
        assert r["utterances_per_s"] == pytest.approx(1000 * r["batch_size"] / r["median_ms"], rel=1e-3)
    flat = latency.flat(out)
    assert set(flat) == {f"b{b}_{k}" for b in (1, 4, 16) for k in ROW_KEYS - {"batch_size", "repeats"}}


@pytest.mark.parametrize("bad, match", [((), "whole numbers"), ((0,), "whole numbers"), ((1.5,), "whole numbers"),
                                        ((1, 1), "repeat"), ((100,), "larger than split")])
def test_bad_batch_sizes_are_refused(small, fitted, bad, match):
    with pytest.raises(ConfigError, match=match):
        latency.measure_latency(fitted, small, batch_sizes=bad, repeats=1)


def test_bad_inputs_are_refused(small, fitted):
    with pytest.raises(ConfigError, match="Corpus"):
        latency.measure_latency(fitted, {"test": {}}, repeats=1)
    with pytest.raises(ConfigError, match="fitted model"):
        latency.measure_latency(object(), small, repeats=1)
    with pytest.raises(KeyError, match="no split"):
        latency.measure_latency(fitted, small, "dev", repeats=1)
    with pytest.raises(ConfigError, match="threads"):
        latency.measure_latency(fitted, small, repeats=1, threads=0)
    with pytest.raises(MMSADataError, match="fit it"):
        latency.measure_latency(create("tfn"), small, repeats=1)


def test_the_encoder_is_timed_for_cached_vector_models(small):
    model = create("text_bert").fit(small)
    assert latency.cached_encoder_settings(model) == {"encoder": "all-MiniLM-L6-v2", "pooling": "mean",
                                                      "max_len": 64}
    assert latency.cached_encoder_settings(create("tfn")) is None
    assert latency.cached_encoder_settings(create("self_mm", finetune=True)) is None
    out = latency.measure_latency(model, small, batch_sizes=(1, 2), repeats=2, n_distinct=2)
    assert [r["batch_size"] for r in out["encoder"]] == [1, 2]
    # the live encoder gives the vectors the model reads from the cache
    from mmsa_helpers.models.pretrained_text import encode_texts

    texts = list(small["test"]["raw_text"][:3])
    live = latency.live_encoder("all-MiniLM-L6-v2", "mean", 64)(texts)
    assert np.allclose(live, encode_texts(texts, cache=False), atol=1e-5)


def test_record_round_trip(tmp_path, small):
    rec = latency.latency_record("lexicon", small, batch_sizes=(1, 8), repeats=2)
    assert rec["task"] == "latency" and rec["model"] == "lexicon" and rec["seeds"] == [0]
    assert rec["command"] == "python -m mmsa_helpers latency -m lexicon -b 1 -b 8 --repeats 2 --threads 1"
    assert {"cpus", "torch_threads", "load_average"} <= set(rec["machine"])
    path = save_record(rec, tmp_path / "lexicon.json")
    back = load_record(path)
    assert back["latency"] == rec["latency"] and back["test"] == rec["test"]
    assert back["test"]["b8_utterances_per_s"]["mean"] == rec["latency"]["batches"][1]["utterances_per_s"]
    frame = latency.latency_frame({"lexicon": back})
    assert frame.loc["lexicon", "batch"] == 8 and frame.loc["lexicon", "encoder_b1_ms"] == 0
    with pytest.raises(MMSADataError, match="not a latency"):
        latency.latency_frame({"lexicon": {**back, "task": "sentiment_regression"}})


def test_brief_config_trains_one_epoch():
    assert latency._brief_config("tfn")["epochs"] == 1
    assert "epochs" not in latency._brief_config("tfidf_svm")


def test_speech_features_per_second_of_audio():
    out = latency.measure_speech_features(durations=(0.5, 1.0), repeats=2)
    assert [r["audio_seconds"] for r in out["rows"]] == [0.5, 1.0]
    for r in out["rows"]:
        assert r["ms_per_audio_second"] == pytest.approx(r["median_ms"] / r["audio_seconds"], rel=1e-3)
    with pytest.raises(ConfigError, match="positive"):
        latency.measure_speech_features(durations=(0,))


def test_cli_latency_writes_records_and_refuses_bad_options(tmp_path, capsys):
    assert main(["latency", "-m", "lexicon", "-b", "1", "-b", "4", "--repeats", "2", "--records", str(tmp_path)]) == 0
    rec = load_record(tmp_path / "lexicon.json")
    assert [r["batch_size"] for r in rec["latency"]["batches"]] == [1, 4]
    assert "lexicon" in capsys.readouterr().out
    assert main(["latency", "-m", "nope", "--records", str(tmp_path)]) == 2
    assert main(["latency", "-m", "lexicon", "--repeats", "0", "--records", str(tmp_path)]) == 2
    assert main(["latency", "-m", "lexicon", "--threads", "0", "--records", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err


def test_stored_records_cover_the_board():
    names = {p.stem for p in STORED.glob("*.json")}
    assert names == {*BOARD_MODELS, latency.SPEECH_FEATURES}
    records = {n: load_record(STORED / f"{n}.json") for n in names}
    for name, rec in records.items():
        assert rec["task"] == "latency" and rec["command"].startswith("python -m mmsa_helpers latency -m ")
        assert rec["machine"]["torch_threads"] == 1
    frame = latency.latency_frame(records)
    assert set(frame.index) == set(BOARD_MODELS)
    assert (frame.loc[["text_bert", "self_mm"], "encoder_b1_ms"] > 0).all()
    assert (frame.drop(index=["text_bert", "self_mm"])["encoder_b1_ms"] == 0).all()
    assert issubclass(ConfigError, UserError)
