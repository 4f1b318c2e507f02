"""Stored results that the build cannot re-run (real data, expensive settings) are records made by
``train --json``: every one has the command and date, and the cheap ones are re-run whenever the
real data is on the machine (``MMSA_DATA_ROOT``), so a stored number can never drift from the code."""
from pathlib import Path

import pytest

from mmsa_helpers import records
from mmsa_helpers.datasets import list_datasets

ROOT = Path(__file__).resolve().parent.parent
STORED = sorted(p for d in ("real", "full_run") for p in (ROOT / "book" / "records" / d).glob("*.json"))


def test_there_are_stored_records():
    assert {p.parent.name for p in STORED} == {"real", "full_run"}


@pytest.mark.parametrize("path", STORED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_record_says_how_and_when_it_was_made(path):
    rec = records.load_record(path)
    assert rec["command"].startswith("python -m mmsa_helpers train ")
    assert f"--json book/records/{path.parent.name}/{path.name}" in rec["command"]
    assert "--data-root" not in rec["command"], "real data is found through MMSA_DATA_ROOT, not a local path"
    assert len(rec["created"]) == 10 and rec["seeds"]


def test_table_prints_mean_and_std_and_drops_a_zero_std():
    real = ROOT / "book" / "records" / "real"
    t = records.table({"svm": real / "emodb_audio_svm.json", "tcn": real / "emodb_audio_tcn.json"}, ["UAR"])
    assert "±" not in t.loc["svm", "UAR"] and "±" in t.loc["tcn", "UAR"]
    assert list(t.columns) == ["UAR", "seeds", "s per seed"]
    assert t.attrs["made"]["svm"]["command"].startswith("python -m mmsa_helpers train -d emodb")
    mosi = records.table({"bert": real / "mosi_text_bert.json"}, ["Non0_acc_2", "Corr", "MAE"], paper_scale=True,
                         digits=2)
    assert list(mosi.columns)[:3] == ["Non0_acc_2 (%)", "Corr (x100)", "MAE"]


def _available(name):
    table = list_datasets()
    return table.loc[table["name"] == name, "available"].iloc[0] != "no"


CHEAP = [("emodb", "emodb_audio_svm.json"), ("emodb", "emodb_audio_svm_raw.json"), ("mosi", "mosi_tfidf_svm.json")]


@pytest.mark.parametrize("dataset, name", CHEAP, ids=[n for _, n in CHEAP])
def test_cheap_real_data_records_are_reproduced(dataset, name):
    if not _available(dataset):
        pytest.skip(f"{dataset} is not under the data root (MMSA_DATA_ROOT)")
    stored = records.load_record(ROOT / "book" / "records" / "real" / name)
    fresh = records.rerun(stored)
    for metric, value in stored["test"].items():
        assert fresh["test"][metric]["mean"] == pytest.approx(value["mean"], abs=1e-4), metric
