"""Tests for mmsa_helpers.catalog: the dataset facts of chapter 1."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from mmsa_helpers.catalog import DATASETS, NOT_LOADED, DatasetFacts, catalog_table, item_count

BIB = Path(__file__).resolve().parents[1] / "book" / "references.bib"
EXPECTED = {"mosi", "mosei", "sims", "iemocap", "meld", "emodb", "ravdess"}


def bib_keys() -> set[str]:
    text = BIB.read_text(encoding="utf-8")
    return set(re.findall(r"^@\w+\{\s*([^,\s]+)\s*,", text, flags=re.MULTILINE))


def test_registry_has_the_seven_datasets():
    assert set(DATASETS) == EXPECTED


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_entry_is_complete(key):
    facts = DATASETS[key]
    assert isinstance(facts, DatasetFacts)
    for f in fields(DatasetFacts):
        value = getattr(facts, f.name)
        assert isinstance(value, str) and value.strip(), f"{key}.{f.name} is empty"


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_name_matches_registry_key(key):
    assert DATASETS[key].name == key


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_citation_key_is_in_references_bib(key):
    assert DATASETS[key].citation in bib_keys()


def test_bib_keys_are_unique():
    text = BIB.read_text(encoding="utf-8")
    keys = re.findall(r"^@\w+\{\s*([^,\s]+)\s*,", text, flags=re.MULTILINE)
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_url_points_somewhere(key):
    assert "http" in DATASETS[key].url


def test_layouts_match_the_loaders():
    assert "MOSI/Processed/unaligned_50.pkl" in DATASETS["mosi"].layout
    assert "MOSI/label.csv" in DATASETS["mosi"].layout
    assert "MOSEI/Processed/aligned_50.pkl" in DATASETS["mosei"].layout
    assert "SIMS/Processed/unaligned_39.pkl" in DATASETS["sims"].layout
    assert "MELD/train_sent_emo.csv" in DATASETS["meld"].layout
    assert "EMODB/wav/" in DATASETS["emodb"].layout
    assert DATASETS["iemocap"].layout == NOT_LOADED
    assert DATASETS["ravdess"].layout == NOT_LOADED


def test_licences_of_the_openly_licensed_datasets():
    assert "GPL-3.0" in DATASETS["meld"].licence
    assert "CC BY-NC-SA 4.0" in DATASETS["ravdess"].licence


@pytest.mark.parametrize(
    "key, count", [("mosi", 2199), ("mosei", 23453), ("sims", 2281), ("meld", 13708), ("emodb", 535)]
)
def test_item_count(key, count):
    assert item_count(key) == count


def test_mmsa_splits_add_up():
    """The MMSA split given in ``size`` sums to the dataset size (MOSI, SIMS) or less (MOSEI)."""
    for key in ("mosi", "sims", "mosei", "meld"):
        split = re.search(r"split ([\d,]+) / ([\d,]+) / ([\d,]+)", DATASETS[key].size)
        assert split, key
        total = sum(int(x.replace(",", "")) for x in split.groups())
        assert total <= item_count(key)
        if key != "mosei":  # MMSA's MOSEI files hold 22,856 of the 23,453 segments
            assert total == item_count(key)


def test_catalog_table():
    table = catalog_table()
    assert len(table) == len(DATASETS)
    assert list(table["Registry name"]) == list(DATASETS)
    assert {"Dataset", "Licence", "Where to get it", "Cite"} <= set(table.columns)
    assert "Expected under the data root" not in table.columns
    assert table.notna().all().all()
    wide = catalog_table(include_layout=True)
    assert "Expected under the data root" in wide.columns


def test_table_columns_cover_every_field():
    from mmsa_helpers.catalog import TABLE_COLUMNS

    assert set(TABLE_COLUMNS) == {f.name for f in fields(DatasetFacts)}
