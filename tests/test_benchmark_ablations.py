"""The stored Self-MM records: the benchmark's table and the ablation variants' settings."""
import json

import pytest

from mmsa_helpers import ablations
from mmsa_helpers.benchmark import RESULT, benchmark_frame, benchmark_table, load_benchmark, speedups
from mmsa_helpers.errors import ConfigError, MMSADataError

METRICS = {"Has0_acc_2": 0.8, "Has0_F1_score": 0.8, "Non0_acc_2": 0.81, "Non0_F1_score": 0.81,
           "Mult_acc_5": 0.5, "Mult_acc_7": 0.45, "MAE": 0.65, "Corr": 0.8}


def run(sec, corr, ulabels=True):
    out = {"status": "ok", "seconds_per_epoch": sec, "epochs_run": 10, "best_epoch": 7,
           "test": {**METRICS, "Corr": corr}}
    if ulabels:
        out["ulabels"] = {"final": {k: {"corr_true": 0.5} for k in "tav"}}
    return out


def record(**runs):
    return {"runs": runs, "settings": {"sizes": {"train": 256}, "early_stop": 3}, "machine": {"torch_threads": 1},
            "command": "python benchmarks/self_mm_vs_mmsa.py"}


def test_benchmark_table_and_speedups(tmp_path):
    rec = record(mmsa=run(60.0, 0.82), book_finetune=run(10.0, 0.81, ulabels=False), book_frozen=run(1.5, 0.5))
    frame = benchmark_frame(rec)
    assert list(frame.index) == ["MMSA 2.2.1 (fine-tunes)", "book, fine-tuned", "book, frozen encoder"]
    assert frame.at["book, fine-tuned", "Corr"] == 0.81
    table = benchmark_table(rec)
    assert table.at["MMSA 2.2.1 (fine-tunes)", "Non0_acc_2"] == "81.0"      # x100, as MMSA prints
    assert table.at["book, fine-tuned", "r(u_t, y_t)"] == "-"                # no u-labels dumped
    assert table.at["book, frozen encoder", "epochs (best)"] == "10 (7)"
    assert speedups(rec) == pytest.approx({"book_finetune": 6.0, "book_frozen": 40.0})
    path = tmp_path / "r.json"
    path.write_text(json.dumps(rec))
    assert load_benchmark(path)["runs"]["mmsa"]["seconds_per_epoch"] == 60.0


def test_benchmark_refuses_missing_or_failed_records(tmp_path):
    with pytest.raises(MMSADataError, match="benchmarks/run.sh"):
        load_benchmark(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(MMSADataError, match="missing"):
        load_benchmark(tmp_path / "bad.json")
    with pytest.raises(MMSADataError, match="no finished run"):
        benchmark_frame(record(mmsa={"status": "failed"}))


def test_stored_benchmark_record_is_complete():
    rec = load_benchmark(RESULT)
    assert set(speedups(rec)) == {"book_finetune", "book_frozen"}


def test_ablation_variants_and_their_records():
    assert ablations.variant_config("self_mm", "no tanh weighting")["weighting"] == "none"
    with pytest.raises(ConfigError, match="known"):
        ablations.variant_config("self_mm", "no such variant")
    # the unchanged model's record is the leaderboard's; each other variant has its own file
    assert ablations.record_path("self_mm", "Self-MM").parent.name == "leaderboard"
    assert ablations.record_path("self_mm", "no tanh weighting").name == "no_tanh_weighting.json"
    records = ablations.collect("self_mm", log=None, remake=False) if all(
        ablations.record_path("self_mm", v).exists() for v in ablations.ABLATIONS["self_mm"]) else {}
    assert records, "every ablation record is stored (python -m mmsa_helpers ablations -m self_mm)"
    for name, rec in records.items():
        assert not ablations.stale_settings(rec), (name, ablations.stale_settings(rec))
        assert rec["seeds"] == [0, 1, 2]
