"""The chapters' real-data branches, run on fixtures in the real formats.

Real datasets cannot ship with the book, so nbval only ever runs the chapters'
"the data is not here" branch. These tests build a small data root in the real
layouts (EMO-DB's wav folder with its file-name codes; an MMSA pickle of CMU-MOSI's
shape, including the ``-inf`` values real COVAREP audio features have), point
``MMSA_DATA_ROOT`` at it and execute the whole chapter, hidden assertions included.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import nbformat
import numpy as np
import pytest
import soundfile as sf
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
EMODB_CODES = {"neutral": "N", "anger": "W", "happiness": "F", "sadness": "T", "fear": "A", "boredom": "L",
               "disgust": "E"}


def execute(notebook: str) -> str:
    """Run a chapter top to bottom (in the environment of this process); return its text outputs."""
    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", ""))
            texts.append(str(out.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv("MMSA_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("MMSA_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "data"


def test_speech_chapter_runs_on_an_emodb_folder(data_root):
    from mmsa_helpers.speech import EMOTIONS, make_speaker, synthesize

    folder = data_root / "EMODB" / "wav"
    folder.mkdir(parents=True)
    for s, code in enumerate(("03", "08", "10")):
        for emotion in EMOTIONS:
            for k, sentence in enumerate(("a01", "b02")):
                y = synthesize(emotion, make_speaker(s, seed=7), seed=k, duration=1.0)
                sf.write(folder / f"{code}{sentence}{EMODB_CODES[emotion]}a.wav", y, 16000)
    out = execute("07_speech.ipynb")
    assert "is not on this machine" not in out
    assert "audio_svm, per-speaker z-score" in out and "audio_tcn, per-speaker z-score" in out


def test_vision_chapter_runs_on_an_mmsa_pickle(data_root):
    from mmsa_helpers.pickle_io import export_mmsa
    from mmsa_helpers.synthetic import generate_corpus

    small = dict(seed=3, sizes=(240, 60, 120), speakers=(12, 4, 6))   # a fraction of MOSI's size: a fast test
    unaligned, aligned = generate_corpus(**small), generate_corpus(aligned=True, **small)
    paths = export_mmsa(unaligned, aligned, data_root, "mosi")
    # Make the streams look like MMSA's MOSI: 20 Facet features per frame; -inf in audio
    with open(paths["unaligned"], "rb") as f:
        data = pickle.load(f)
    rng = np.random.default_rng(0)
    for split in data.values():
        v = split["vision"]
        extra = rng.normal(size=v.shape[:2] + (4,)).astype(np.float32)
        split["vision"] = np.concatenate([v, extra], axis=2)
        split["audio"][:3, :2, 0] = -np.inf
    with open(paths["unaligned"], "wb") as f:
        pickle.dump(data, f)
    out = execute("08_vision.ipynb")
    assert "is not on this machine" not in out
    assert "mosi" in out.lower()
