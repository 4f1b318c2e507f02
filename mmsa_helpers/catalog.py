"""Facts about the standard datasets of multimodal sentiment and emotion analysis (chapter 1).

``DATASETS`` maps a registry name to a :class:`DatasetFacts`. The loaders use
``url``/``licence`` in their "not found" messages; chapter 1 renders the table
with :func:`catalog_table`.

Sizes are those of the original papers; where the book reads MMSA's processed
files, the MMSA split (train / valid / test) is given as well. Every
``citation`` is a key of ``book/references.bib``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

NOT_LOADED = "not loaded by mmsa_helpers yet"


@dataclass(frozen=True)
class DatasetFacts:
    name: str            # registry name, e.g. "mosi"
    title: str           # e.g. "CMU-MOSI"
    language: str
    modalities: str      # e.g. "text, audio, vision"
    size: str            # e.g. "2,199 utterances (93 videos, 89 speakers)"
    labels: str          # e.g. "sentiment in [-3, 3], mean of 5 raters"
    licence: str
    url: str             # where a reader obtains it
    citation: str        # key in book/references.bib
    layout: str          # what the book's loader expects under the data root


_MMSA_README = "https://github.com/thuiar/MMSA#2-datasets"

DATASETS: dict[str, DatasetFacts] = {
    "mosi": DatasetFacts(
        name="mosi",
        title="CMU-MOSI",
        language="English",
        modalities="text, audio, vision",
        size="2,199 utterances (93 YouTube movie-review videos, 89 speakers); "
        "MMSA split 1,284 / 229 / 686",
        labels="sentiment in [-3, 3], mean of 5 crowd ratings per utterance",
        licence="research use; the MIT licence of CMU-MultimodalSDK covers its code, not the data",
        url=f"MMSA features and label.csv: {_MMSA_README}; "
        "raw data: https://github.com/CMU-MultiComp-Lab/CMU-MultimodalSDK",
        citation="zadeh2016mosi",
        layout="MOSI/Processed/unaligned_50.pkl, MOSI/Processed/aligned_50.pkl, MOSI/label.csv "
        "(label.csv alone is enough for the text-only chapters)",
    ),
    "mosei": DatasetFacts(
        name="mosei",
        title="CMU-MOSEI",
        language="English",
        modalities="text, audio, vision",
        size="23,453 utterances (YouTube monologues, 1,000 speakers, 250 topics, about 65 hours); "
        "MMSA split 16,326 / 1,871 / 4,659",
        labels="sentiment in [-3, 3] plus six emotion intensities in [0, 3] "
        "(happiness, sadness, anger, fear, disgust, surprise), means of crowd ratings",
        licence="research use; the MIT licence of CMU-MultimodalSDK covers its code, not the data",
        url=f"MMSA features and label.csv: {_MMSA_README}; "
        "raw data: https://github.com/CMU-MultiComp-Lab/CMU-MultimodalSDK",
        citation="zadeh2018mosei",
        layout="MOSEI/Processed/unaligned_50.pkl, MOSEI/Processed/aligned_50.pkl, MOSEI/label.csv "
        "(label.csv alone is enough for the text-only chapters)",
    ),
    "sims": DatasetFacts(
        name="sims",
        title="CH-SIMS",
        language="Mandarin Chinese",
        modalities="text, audio, vision",
        size="2,281 utterances (video segments in the wild); "
        "MMSA split 1,368 / 456 / 457",
        labels="sentiment in [-1, 1]: one multimodal label y_m and three unimodal labels "
        "y_t, y_a, y_v, each an average of annotators' votes",
        licence="academic research use; the MMSA README states no data licence "
        "(MMSA's code is MIT-licensed)",
        url=f"MMSA features and label.csv: {_MMSA_README}",
        citation="yu2020sims",
        layout="SIMS/Processed/unaligned_39.pkl, SIMS/label.csv",
    ),
    "iemocap": DatasetFacts(
        name="iemocap",
        title="IEMOCAP",
        language="English",
        modalities="text, audio, vision (video and facial motion capture)",
        size="about 10,000 utterances (about 12 hours of dyadic sessions, "
        "10 actors in 5 sessions)",
        labels="categorical emotions (anger, happiness, excitement, sadness, frustration, "
        "neutral and others; often reduced to 4 classes) and valence / activation / "
        "dominance ratings on 1-5",
        licence="free for academic research after signing USC SAIL's release form; "
        "no redistribution, no commercial use",
        url="by request from USC SAIL: https://sail.usc.edu/iemocap/",
        citation="busso2008iemocap",
        layout=NOT_LOADED,
    ),
    "meld": DatasetFacts(
        name="meld",
        title="MELD",
        language="English",
        modalities="text, audio, vision",
        size="13,708 utterances in 1,433 dialogues from the TV series Friends; "
        "split 9,989 / 1,109 / 2,610",
        labels="7 emotions (anger, disgust, fear, joy, neutral, sadness, surprise) and "
        "3 sentiments (negative, neutral, positive) per utterance",
        licence="GPL-3.0",
        url="https://github.com/declare-lab/MELD (raw videos: https://affective-meld.github.io)",
        citation="poria2019meld",
        layout="MELD/train_sent_emo.csv, MELD/dev_sent_emo.csv, MELD/test_sent_emo.csv",
    ),
    "emodb": DatasetFacts(
        name="emodb",
        title="EMO-DB (Berlin Database of Emotional Speech)",
        language="German",
        modalities="audio",
        size="535 utterances, 10 actors (5 female, 5 male), 10 sentences",
        labels="7 acted emotions (anger, boredom, disgust, fear, happiness, sadness, neutral), "
        "coded by the 6th character of the file name",
        licence="free for research (TU Berlin); audEERING's re-release on Zenodo is CC0 1.0",
        url="TU Berlin project site: http://emodb.bilderbar.info/ "
        "(download: http://emodb.bilderbar.info/download/)",
        citation="burkhardt2005emodb",
        layout="EMODB/wav/*.wav (original file names, e.g. 03a01Fa.wav)",
    ),
    "ravdess": DatasetFacts(
        name="ravdess",
        title="RAVDESS",
        language="English (North American)",
        modalities="audio, vision",
        size="7,356 recordings of 24 actors (12 female, 12 male); "
        "1,440 of them are audio-only speech",
        labels="8 acted emotions in speech (neutral, calm, happy, sad, angry, fearful, "
        "surprise, disgust), each but neutral at two intensities; 2 fixed sentences",
        licence="CC BY-NC-SA 4.0 (commercial licences sold separately)",
        url="Zenodo: https://zenodo.org/record/1188976 (doi:10.5281/zenodo.1188976)",
        citation="livingstone2018ravdess",
        layout=NOT_LOADED,
    ),
}

#: Column headers of :func:`catalog_table`, in order, keyed by field name.
TABLE_COLUMNS = {
    "title": "Dataset",
    "name": "Registry name",
    "language": "Language",
    "modalities": "Modalities",
    "size": "Size",
    "labels": "Labels",
    "licence": "Licence",
    "url": "Where to get it",
    "citation": "Cite",
    "layout": "Expected under the data root",
}


def item_count(name: str) -> int:
    """The number of items (utterances or recordings) of a dataset: the first number in ``size``.

    >>> item_count("mosi")
    2199
    """
    size = DATASETS[name].size
    match = re.search(r"\d[\d,]*", size)
    if match is None:
        raise ValueError(f"no number in the size of {name!r}: {size!r}")
    return int(match.group().replace(",", ""))


def catalog_table(include_layout: bool = False):
    """One row per dataset with readable column names, for chapter 1 and the README.

    Parameters
    ----------
    include_layout:
        Add the column saying which files the loaders expect under the data root.
    """
    import pandas as pd

    keep = [k for k in TABLE_COLUMNS if include_layout or k != "layout"]
    rows = [{TABLE_COLUMNS[k]: getattr(facts, k) for k in keep} for facts in DATASETS.values()]
    return pd.DataFrame(rows, columns=[TABLE_COLUMNS[k] for k in keep])


def loaded_datasets() -> list[DatasetFacts]:
    """The datasets the book's loaders read (those with a ``layout``), in catalog order."""
    return [facts for facts in DATASETS.values() if facts.layout != NOT_LOADED]


def _layout_markdown(layout: str) -> str:
    """``A, B (note)`` with each path as code: ```A`, `B` (note)``."""
    paths, sep, note = layout.partition(" (")
    coded = ", ".join(f"`{p.strip()}`" for p in paths.split(", "))
    return coded + (f" ({note}" if sep else "")


def data_root_markdown() -> str:
    """The README's table of the real datasets: layout under the data root, where to get each, licence.

    The README holds this table verbatim (a test compares them) and the appendix
    "Readers who outgrow a laptop" renders the same facts, so the three agree.
    """
    lines = ["| dataset | layout under the data root | where to get it | licence |", "|---|---|---|---|"]
    for facts in loaded_datasets():
        cells = [f"{facts.title} (`{facts.name}`)", _layout_markdown(facts.layout), facts.url, facts.licence]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)
