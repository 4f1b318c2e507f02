"""Tests of mmsa_helpers.real_data on tiny fixtures written in the real formats."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from mmsa_helpers.errors import DatasetNotFoundError, MMSADataError, UnsafePickleError
from mmsa_helpers.pickle_io import save_mmsa_pickle
from mmsa_helpers.real_data import (
    availability,
    data_root,
    fix_meld_text,
    load_emodb,
    load_meld,
    load_mmsa_dataset,
    parse_emodb_name,
    read_label_csv,
)

# --------------------------------------------------------------------------- data root


def test_data_root_order(tmp_path, monkeypatch):
    monkeypatch.delenv("MMSA_DATA_ROOT", raising=False)
    assert data_root() == Path("~/mmsa_data").expanduser()
    monkeypatch.setenv("MMSA_DATA_ROOT", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "arg") == tmp_path / "arg"


# --------------------------------------------------------------------------- label.csv

THIRD_PARTY = """id,text,label,mode
abc_1,it was good,2.4,train
abc_2,not really,-0.8,train
a_b-c_10,meh,0.0,dev
xyz_3,nan,1.5,test
"""

MMSA_STYLE = """video_id,clip_id,text,label,label_T,label_A,label_V,annotation,mode
v1,1,good,0.8,1.0,0.6,0.4,Positive,train
v1,2,bad,-0.6,-1.0,-0.2,0.0,Negative,valid
v2,1,fine,0.0,0.2,-0.2,0.0,Neutral,test
"""


def test_read_label_csv_third_party_id(tmp_path):
    path = tmp_path / "label.csv"
    path.write_text(THIRD_PARTY)
    df = read_label_csv(path)
    assert list(df.columns) == ["id", "video_id", "clip_id", "text", "label", "label_T",
                                "label_A", "label_V", "mode"]
    assert df["id"].tolist() == ["abc$_$1", "abc$_$2", "a_b-c$_$10", "xyz$_$3"]
    assert df.loc[2, "video_id"] == "a_b-c" and df.loc[2, "clip_id"] == "10"
    assert df["mode"].tolist() == ["train", "train", "valid", "test"]
    assert df.loc[3, "text"] == "nan"  # a transcript, not a missing value
    assert df["label_T"].isna().all()


def test_read_label_csv_mmsa_columns(tmp_path):
    path = tmp_path / "label.csv"
    path.write_text(MMSA_STYLE)
    df = read_label_csv(path)
    assert df["id"].tolist() == ["v1$_$1", "v1$_$2", "v2$_$1"]
    np.testing.assert_allclose(df["label_A"], [0.6, -0.2, -0.2])


@pytest.mark.parametrize("content, message", [
    ("id,text,score,mode\na_1,x,1,train\n", r"missing columns \['label'\].*it has"),
    ("text,label,mode\nx,1,train\n", r"video_id \+ clip_id \(or id\)"),
    ("id,text,label,mode\na_1,x,1,train\na_2,y,high,test\na_3,z,,test\n", r"'label'.*2 rows.*\[3, 4\]"),
    ("id,text,label,mode\na_1,x,1,train\na_2,y,1,holdout\n", r"unknown mode values \['holdout'\].*\[3\]"),
])
def test_read_label_csv_errors(tmp_path, content, message):
    path = tmp_path / "label.csv"
    path.write_text(content)
    with pytest.raises(MMSADataError, match=message):
        read_label_csv(path)


# --------------------------------------------------------------------------- MOSI-like folders


def _mmsa_split(n: int, L: int = 5) -> dict:
    return {
        "id": [f"v$_${i}" for i in range(n)],
        "raw_text": ["x"] * n,
        "text": np.zeros((n, L, 4), np.float32),
        "audio": np.zeros((n, L, 3), np.float32),
        "vision": np.zeros((n, L, 2), np.float32),
        "regression_labels": np.linspace(-1, 1, n).astype(np.float32),
    }


def test_text_only_from_label_csv(tmp_path):
    (tmp_path / "SIMS").mkdir()
    (tmp_path / "SIMS" / "label.csv").write_text(MMSA_STYLE)
    c = load_mmsa_dataset("sims", root=tmp_path, text_only=True)
    assert c.sizes() == {"train": 1, "valid": 1, "test": 1}
    assert c.info["text_only"] and c.label_range == 1
    assert c.labels("valid", "T").tolist() == [-1.0]
    assert c["train"]["raw_text"] == ["good"]


def test_text_only_lowercase_folder_and_label_range(tmp_path):
    (tmp_path / "mosi").mkdir()
    (tmp_path / "mosi" / "label.csv").write_text(THIRD_PARTY)
    c = load_mmsa_dataset("mosi", root=tmp_path, text_only=True)
    assert c.sizes() == {"train": 2, "valid": 1, "test": 1} and c.label_range == 3
    assert not c.has("regression_labels_T")
    (tmp_path / "mosi" / "label.csv").write_text(THIRD_PARTY.replace("2.4", "4.0"))
    with pytest.raises(MMSADataError, match="outside"):
        load_mmsa_dataset("mosi", root=tmp_path, text_only=True)


def test_pickle_dataset(tmp_path):
    data = {s: _mmsa_split(n) for s, n in (("train", 4), ("valid", 2), ("test", 3))}
    save_mmsa_pickle(data, tmp_path / "MOSI" / "Processed" / "aligned_50.pkl")
    c = load_mmsa_dataset("MOSI", root=tmp_path, aligned=True)
    assert c.aligned and c.sizes() == {"train": 4, "valid": 2, "test": 3}
    assert not c.info["text_only"] and c.modalities == ["text", "audio", "vision"]
    with pytest.raises(DatasetNotFoundError, match="unaligned_50.pkl"):
        load_mmsa_dataset("mosi", root=tmp_path, aligned=False)
    with pytest.raises(MMSADataError, match="unaligned only"):
        load_mmsa_dataset("sims", root=tmp_path, aligned=True)
    with pytest.raises(ValueError, match="unknown MMSA dataset"):
        load_mmsa_dataset("iemocap", root=tmp_path)


def test_pickle_dataset_is_loaded_safely(tmp_path):
    import datetime
    import pickle

    path = tmp_path / "MOSEI" / "Processed" / "unaligned_50.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps({"train": datetime.date(2020, 1, 1)}))
    with pytest.raises(UnsafePickleError):
        load_mmsa_dataset("mosei", root=tmp_path)


def test_missing_dataset_message(tmp_path, monkeypatch):
    monkeypatch.setenv("MMSA_DATA_ROOT", str(tmp_path))
    (tmp_path / "MOSI").mkdir()
    (tmp_path / "MOSI" / "label.csv").write_text(THIRD_PARTY)
    with pytest.raises(DatasetNotFoundError) as err:
        load_mmsa_dataset("mosi")
    msg = str(err.value)
    assert str(tmp_path / "MOSI" / "Processed" / "unaligned_50.pkl") in msg
    assert str(tmp_path / "mosi" / "Processed" / "unaligned_50.pkl") in msg
    assert "MMSA_DATA_ROOT" in msg and "text_only=True" in msg
    with pytest.raises(DatasetNotFoundError) as err:
        load_mmsa_dataset("mosei", root=tmp_path / "elsewhere", text_only=True)
    msg = str(err.value)
    assert str(tmp_path / "elsewhere" / "MOSEI" / "label.csv") in msg and "root argument" in msg
    assert isinstance(err.value, FileNotFoundError)


def test_availability(tmp_path):
    a = availability("mosi", tmp_path)
    assert not a["available"] and not a["text_only_available"] and a["found"] == []
    assert str(tmp_path / "MOSI" / "label.csv") in a["looked_at"]
    (tmp_path / "MOSI").mkdir()
    (tmp_path / "MOSI" / "label.csv").write_text(THIRD_PARTY)
    a = availability("mosi", tmp_path)
    assert a["text_only_available"] and not a["available"]
    assert a["found"] == [str(tmp_path / "MOSI" / "label.csv")]
    assert not availability("sims", tmp_path)["aligned_available"]
    assert not availability("meld", tmp_path)["available"]
    assert not availability("emodb", tmp_path)["available"]
    with pytest.raises(ValueError, match="unknown dataset"):
        availability("nope", tmp_path)


# --------------------------------------------------------------------------- MELD

MELD_HEADER = ("Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,"
               "Season,Episode,StartTime,EndTime\n")
MELD_ROWS = {
    "train": ['1,Oh my God!,Rachel,surprise,positive,0,0,1,1,"00:00:01,000","00:00:02,000"',
              '2,"I don’t know, man.",Joey,neutral,neutral,0,1,1,1,"00:00:02,000","00:00:03,000"',
              '3,Get out.,Monica,anger,negative,1,0,1,1,"00:00:04,000","00:00:05,000"'],
    "dev": ['1,Hi.,Ross,joy,positive,0,0,2,1,"00:00:01,000","00:00:02,000"'],
    "test": ['1,No.,Phoebe,sadness,negative,3,2,3,1,"00:00:01,000","00:00:02,000"',
             '2,Fine.,Chandler,disgust,negative,3,3,3,1,"00:00:02,000","00:00:03,000"'],
}


def write_meld(root: Path, rows=MELD_ROWS, encoding="utf-8") -> Path:
    folder = root / "MELD"
    folder.mkdir(parents=True, exist_ok=True)
    for split, lines in rows.items():
        (folder / f"{split}_sent_emo.csv").write_text(MELD_HEADER + "\n".join(lines) + "\n", encoding=encoding)
    return folder


def test_load_meld(tmp_path):
    write_meld(tmp_path)
    c = load_meld(tmp_path)
    assert c.sizes() == {"train": 3, "valid": 1, "test": 2} and c.label_range == 1
    tr = c["train"]
    assert tr["id"] == ["dia0_utt0", "dia0_utt1", "dia1_utt0"]
    assert tr["raw_text"][1] == "I don’t know, man."
    assert tr["speaker"] == ["Rachel", "Joey", "Monica"]
    assert tr["emotion"] == ["surprise", "neutral", "anger"]
    assert tr["sentiment"] == ["positive", "neutral", "negative"]
    assert tr["regression_labels"].tolist() == [1.0, 0.0, -1.0]
    assert len(c.info["emotion_classes"]) == 7
    assert c.frame("test")["id"].tolist() == ["dia3_utt2", "dia3_utt3"]


def test_meld_mojibake_is_repaired(tmp_path):
    assert fix_meld_text("don\x92t") == "don’t"
    assert fix_meld_text("itâ€™s") == "it’s"
    assert fix_meld_text("weâ\x80\x99re\x85") == "we’re…"
    assert fix_meld_text("plain") == "plain"
    # A Windows-1252 file: ’ is the byte 0x92, not valid UTF-8.
    write_meld(tmp_path, encoding="cp1252")
    assert b"\x92" in (tmp_path / "MELD" / "train_sent_emo.csv").read_bytes()
    with pytest.warns(UserWarning, match="not UTF-8"):
        c = load_meld(tmp_path)
    assert c["train"]["raw_text"][1] == "I don’t know, man."
    assert c.sizes()["train"] == 3
    # A UTF-8 file holding double-encoded punctuation.
    rows = dict(MELD_ROWS, train=[r.replace("’", "â€™") for r in MELD_ROWS["train"]])
    write_meld(tmp_path, rows)
    assert load_meld(tmp_path)["train"]["raw_text"][1] == "I don’t know, man."


def test_meld_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load_meld(tmp_path)
    assert str(tmp_path / "MELD" / "dev_sent_emo.csv") in str(err.value)
    folder = write_meld(tmp_path)
    (folder / "test_sent_emo.csv").write_text("Sr No.,Utterance,Speaker\n1,Hi,Ross\n")
    with pytest.raises(MMSADataError, match=r"missing columns \['Emotion'"):
        load_meld(tmp_path)
    write_meld(tmp_path, dict(MELD_ROWS, dev=[MELD_ROWS["dev"][0].replace("joy", "glee")]))
    with pytest.raises(MMSADataError, match=r"unknown Emotion values \['glee'\]"):
        load_meld(tmp_path)


# --------------------------------------------------------------------------- EMO-DB


def test_parse_emodb_name():
    assert parse_emodb_name("03a01Fa.wav") == {
        "speaker": "03", "sentence": "a01", "letter": "F", "emotion": "happiness",
        "version": "a", "gender": "male"}
    info = parse_emodb_name(Path("/x/16b10Wb.wav"))
    assert info["emotion"] == "anger" and info["gender"] == "female"
    for bad in ("03a01Xa.wav", "03a01Fa.mp3", "3a01Fa.wav", "notes.wav", "99a01Fa.wav", "03a03Fa.wav"):
        with pytest.raises(ValueError, match="SSaNNEv.wav"):
            parse_emodb_name(bad)


EMODB_NAMES = ["03a01Fa.wav", "08b02Tc.wav", "03a04Nc.wav", "09a05Wa.wav"]


def write_wavs(folder: Path, names) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        with wave.open(str(folder / name), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(b"\x00\x00" * 160)


def test_load_emodb(tmp_path):
    write_wavs(tmp_path / "EMODB" / "wav", EMODB_NAMES)
    c = load_emodb(tmp_path)
    d = c["all"]
    assert c.sizes() == {"all": 4} and c.label_range == 0
    assert d["id"] == ["03a01Fa", "03a04Nc", "08b02Tc", "09a05Wa"]
    assert d["emotion"] == ["happiness", "neutral", "sadness", "anger"]
    assert d["gender"] == ["male", "male", "female", "female"]
    assert d["speaker"] == ["03", "03", "08", "09"] and d["sentence"][2] == "b02"
    assert Path(d["path"][0]).is_file()
    assert c.info["speakers"] == ["03", "08", "09"]
    a = availability("emodb", tmp_path)
    assert a["available"] and a["n_files"] == 4


def test_load_emodb_from_folder_passed_directly(tmp_path):
    write_wavs(tmp_path / "my_wavs", EMODB_NAMES[:2])
    assert load_emodb(tmp_path / "my_wavs").sizes() == {"all": 2}


def test_load_emodb_bad_names(tmp_path):
    folder = tmp_path / "EMODB" / "wav"
    write_wavs(folder, EMODB_NAMES + ["readme.wav", "03a01Qa.wav"])
    with pytest.raises(MMSADataError, match=r"2 of 6 .*03a01Qa.wav.*readme.wav.*strict=False"):
        load_emodb(tmp_path)
    with pytest.warns(UserWarning, match="skipped 2"):
        c = load_emodb(tmp_path, strict=False)
    assert c.sizes() == {"all": 4}


def test_load_emodb_empty_or_missing(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        load_emodb(tmp_path)
    assert str(tmp_path / "EMODB" / "wav") in str(err.value)
    (tmp_path / "EMODB" / "wav").mkdir(parents=True)
    with pytest.raises(MMSADataError, match="no .wav files"):
        load_emodb(tmp_path)
    write_wavs(tmp_path / "EMODB" / "wav", ["junk.wav"])
    with pytest.raises(MMSADataError, match="1 of 1"):
        load_emodb(tmp_path, strict=False)


def test_load_emodb_from_the_folder_the_official_download_unpacks_to(tmp_path):
    download = tmp_path / "emodb_download"   # emodb.zip unpacks to wav/, lablaut/, silb/ ... and two .txt files
    write_wavs(download / "wav", EMODB_NAMES)
    (download / "lablaut").mkdir()
    (download / "erkennung.txt").write_text("not a wav")
    c = load_emodb(download)
    assert c.sizes() == {"all": 4} and c.info["source"] == str(download / "wav")
    assert c["all"]["emotion"] == ["happiness", "neutral", "sadness", "anger"]
    a = availability("emodb", download)
    assert a["available"] and a["n_files"] == 4 and a["found"] == [str(download / "wav")]


def test_load_emodb_prefers_a_folder_with_files_over_an_empty_wav_folder(tmp_path):
    (tmp_path / "EMODB" / "wav").mkdir(parents=True)   # made in advance, still empty
    write_wavs(tmp_path / "wav", EMODB_NAMES[:3])
    assert load_emodb(tmp_path).info["source"] == str(tmp_path / "wav")


def test_emodb_not_found_lists_every_layout_tried(tmp_path):
    (tmp_path / "docs").mkdir()
    with pytest.raises(DatasetNotFoundError) as err:
        load_emodb(tmp_path)
    msg = str(err.value)
    for folder, layout in ((tmp_path / "EMODB" / "wav", "the book's layout"),
                           (tmp_path / "emodb" / "wav", "the same in lower case"),
                           (tmp_path / "wav", "the official download unpacks to"),
                           (tmp_path, "the root is the folder of the wav files itself")):
        assert any(line.startswith(f"  - {folder}  (") and layout in line for line in msg.splitlines()), folder
    assert "None of these folders holds .wav files" in msg
