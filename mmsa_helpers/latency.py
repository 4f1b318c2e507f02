"""How fast a model answers: latency per utterance and throughput (chapter 14, "Real-time inference").

:func:`measure_latency` times a fitted model's ``predict`` on *requests* of a few
utterances cut from one split: a request of one utterance (batch 1) gives the
latency, the median and 95th percentile over ``repeats`` requests after a
warm-up; a request of 32 gives the throughput in utterances per second. What is
timed is everything ``predict`` does from the corpus's columns to the clipped
prediction: building tensors, standardising frames with the training
statistics, the forward pass.

What is *not* timed, and where it is timed instead:

* the fusion, audio and vision models read **pre-extracted features** (the
  MMSA format's COVAREP- and Facet-like frames and word vectors). A live
  system computes them first; :func:`measure_speech_features` times the book's
  acoustic extractor (chapter 7) per second of audio. The book has no facial
  feature extractor, so that cost stays unmeasured;
* ``text_bert`` and ``self_mm`` read **cached MiniLM sentence vectors**. The
  warm-up puts every request's vectors in the cache, so the model timing is
  the cached path; :func:`measure_latency` then times the encoder on the raw
  transcripts too (``encoder`` in the result), since a live system must run
  it for every utterance.

Latency does not depend on the trained weights (the same layers do the same
arithmetic), so the timing runs may fit the models briefly, e.g. one epoch
(:func:`latency_record` does).

>>> model = create("tfn", epochs=1, progress=False).fit(corpus)
>>> measure_latency(model, corpus, "test", batch_sizes=(1, 32))["batches"]
"""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .corpus import Corpus
from .errors import ConfigError, MMSADataError

#: where the book keeps its latency records (one JSON record per model)
#: (``book/records/latency`` in the repository)
#:
#: :meta hide-value:
RECORDS_DIR = Path(__file__).resolve().parent.parent / "book" / "records" / "latency"
BATCH_SIZES = (1, 32)
REPEATS = 30
#: the models that read cached sentence vectors: the settings naming the pooling and the token limit
CACHED_ENCODER = {"text_bert": ("pooling", "max_len"), "self_mm": ("pooling", "max_tokens")}
#: the name of the record of the acoustic feature extractor, beside the models' records
SPEECH_FEATURES = "speech_features"


# --- requests ---------------------------------------------------------------------
def subset(corpus: Corpus, split: str, index: Sequence[int]) -> Corpus:
    """A corpus holding one split with the utterances ``index`` of ``corpus[split]`` (a request)."""
    d = corpus[split]
    n = len(d["id"])
    index = np.asarray(index, dtype=np.int64)
    if index.size == 0 or index.min() < 0 or index.max() >= n:
        raise ConfigError(f"a request needs row numbers between 0 and {n - 1} of split {split!r}")
    out = {}
    for key, value in d.items():
        if isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == n:
            out[key] = value[index]
        elif isinstance(value, (list, tuple)) and len(value) == n:
            out[key] = [value[i] for i in index]
        else:
            out[key] = value
    return Corpus(corpus.name, {split: out}, aligned=corpus.aligned, label_range=corpus.label_range,
                  audio_features=list(corpus.audio_features), vision_features=list(corpus.vision_features),
                  info=corpus.info)


def requests(corpus: Corpus, split: str, batch_size: int, n_distinct: int = 8, seed: int = 0) -> list[Corpus]:
    """``n_distinct`` different requests of ``batch_size`` utterances (fewer if the split is small),
    drawn without replacement in a fixed random order: the same seed, the same requests."""
    n = len(corpus[split]["id"])
    if batch_size > n:
        raise ConfigError(f"batch size {batch_size} is larger than split {split!r} ({n} utterances)")
    order = np.random.default_rng(seed).permutation(n)
    k = max(1, min(n_distinct, n // batch_size))
    return [subset(corpus, split, order[i * batch_size:(i + 1) * batch_size]) for i in range(k)]


# --- timing -----------------------------------------------------------------------
def _device_of(model) -> str:
    import torch

    net = getattr(model, "net", None)
    if isinstance(net, torch.nn.Module):
        p = next(net.parameters(), None)
        if p is not None:
            return str(p.device)
    return "cpu"


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


# chapter 14 shows this function's source: lines fit the book's column (77 characters)
def time_calls(fn: Callable[[Any], Any], inputs: Sequence[Any],
               repeats: int, warmup: int = 1,
               device: str = "cpu") -> np.ndarray:
    """Seconds of ``repeats`` calls of ``fn``, cycling through ``inputs``,
    after ``warmup`` calls on *each* input (which fills any cache the model
    keeps per request)."""
    if repeats < 1 or warmup < 0:
        raise ConfigError("repeats must be >= 1 and warmup >= 0, got "
                          f"repeats={repeats}, warmup={warmup}")
    for _ in range(warmup):
        for x in inputs:
            fn(x)
    _sync(device)
    out = np.empty(repeats)
    for i in range(repeats):
        x = inputs[i % len(inputs)]
        t0 = time.perf_counter()
        fn(x)
        _sync(device)
        out[i] = time.perf_counter() - t0
    return out


def summarise(seconds: np.ndarray, batch_size: int) -> dict[str, float]:
    """Median and 95th percentile of the request times (ms), ms per utterance and utterances/s."""
    median = float(np.median(seconds))
    return {"batch_size": int(batch_size), "repeats": int(len(seconds)),
            "median_ms": round(1000 * median, 4), "p95_ms": round(1000 * float(np.percentile(seconds, 95)), 4),
            "ms_per_utterance": round(1000 * median / batch_size, 4),
            "utterances_per_s": round(batch_size / median, 2)}


@contextlib.contextmanager
def torch_threads(threads: int | None):
    """Run a block with ``threads`` PyTorch threads (None: leave the setting), then restore it."""
    import torch

    if threads is None:
        yield torch.get_num_threads()
        return
    if int(threads) < 1:
        raise ConfigError(f"threads must be >= 1, got {threads}")
    before = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield int(threads)
    finally:
        torch.set_num_threads(before)


def live_encoder(encoder: str, pooling: str = "mean", max_len: int = 64) -> Callable[[list[str]], np.ndarray]:
    """The sentence encoder as a live system runs it: loaded once, then tokenise, forward, pool.
    Gives the vectors :func:`~mmsa_helpers.models.pretrained_text.encode_texts` caches."""
    import torch

    from .models.pretrained_text import _load, mean_pool

    if pooling not in ("mean", "cls"):
        raise ConfigError("pooling must be 'mean' or 'cls'")
    tokenizer, model = _load(encoder)
    model.eval()

    def encode(texts: list[str]) -> np.ndarray:
        with torch.no_grad():
            enc = tokenizer(list(texts), padding=True, truncation=True, max_length=max_len, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            vec = mean_pool(hidden, enc["attention_mask"]) if pooling == "mean" else hidden[:, 0]
        return vec.numpy().astype(np.float32)

    return encode


def cached_encoder_settings(model) -> dict[str, Any] | None:
    """``{"encoder", "pooling", "max_len"}`` of a model that reads cached sentence vectors, else None."""
    name = getattr(model, "spec_name", None)
    settings = getattr(model, "settings", None) or {}
    if name not in CACHED_ENCODER or settings.get("finetune"):
        return None
    pooling_key, length_key = CACHED_ENCODER[name]
    return {"encoder": settings["encoder"], "pooling": settings[pooling_key], "max_len": int(settings[length_key])}


def measure_latency(model, corpus: Corpus, split: str = "test", batch_sizes: Iterable[int] = BATCH_SIZES, *,
                    repeats: int = REPEATS, warmup: int = 1, n_distinct: int = 8, threads: int | None = None,
                    encoder: bool = True, seed: int = 0) -> dict[str, Any]:
    """Time a fitted model's ``predict`` on requests of each batch size (see the module's docstring).

    Returns ``{"model", "split", "device", "threads", "repeats", "warmup", "batches": [...],
    "encoder": [...] or None, "encoder_settings", "features_timed"}``; each entry of
    ``batches`` is :func:`summarise` of one batch size. ``encoder`` (for ``text_bert`` and
    ``self_mm``): also time the sentence encoder on the raw transcripts of the same requests.
    """
    if not hasattr(model, "predict"):
        raise ConfigError(f"measure_latency needs a fitted model with predict(corpus, split), "
                          f"not a {type(model).__name__}")
    if not isinstance(corpus, Corpus):
        raise ConfigError(f"measure_latency needs a Corpus (mmsa_helpers.load_dataset(...)), "
                          f"not a {type(corpus).__name__}")
    sizes = list(batch_sizes)
    if not sizes or any(isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1 for b in sizes):
        raise ConfigError(f"batch_sizes must be whole numbers >= 1, e.g. (1, 32); got {tuple(sizes)}")
    if len(set(sizes)) != len(sizes):
        raise ConfigError(f"batch_sizes repeat a value: {tuple(sizes)}")
    corpus[split]  # an unknown split fails here, with the splits the corpus has
    device = _device_of(model)
    enc_settings = cached_encoder_settings(model) if encoder else None
    with torch_threads(threads) as n_threads:
        reqs = {b: requests(corpus, split, int(b), n_distinct, seed) for b in sizes}
        try:
            model.predict(reqs[sizes[0]][0], split)
        except (RuntimeError, AttributeError) as err:
            raise MMSADataError(f"{type(model).__name__} could not predict ({err}); fit it before timing") from err
        batches = [summarise(time_calls(lambda c: model.predict(c, split), reqs[b], repeats, warmup, device), b)
                   for b in sizes]
        enc_rows = None
        if enc_settings is not None:
            encode = live_encoder(**enc_settings)
            texts = {b: [list(c[split]["raw_text"]) for c in reqs[b]] for b in sizes}
            enc_rows = [summarise(time_calls(encode, texts[b], repeats, warmup), b) for b in sizes]
    return {"model": getattr(model, "spec_name", type(model).__name__), "split": split, "device": device,
            "threads": int(n_threads), "repeats": int(repeats), "warmup": int(warmup),
            "batches": batches, "encoder": enc_rows, "encoder_settings": enc_settings,
            "features_timed": False}


def flat(result: dict[str, Any]) -> dict[str, float]:
    """The numbers of a :func:`measure_latency` result as one flat dict (``b1_median_ms``,
    ``b32_utterances_per_s``, ``encoder_b1_median_ms`` ...): a record's per-seed metrics."""
    out = {}
    for prefix, rows in (("", result["batches"]), ("encoder_", result.get("encoder") or [])):
        for row in rows:
            b = row["batch_size"]
            for key in ("median_ms", "p95_ms", "ms_per_utterance", "utterances_per_s"):
                out[f"{prefix}b{b}_{key}"] = row[key]
    return out


# --- the acoustic feature extractor -------------------------------------------------
def measure_speech_features(durations: Sequence[float] = (1.0, 2.0, 4.0), repeats: int = 5,
                            threads: int | None = None, sr: int = 16000) -> dict[str, Any]:
    """Seconds the book's acoustic extractor (:func:`mmsa_helpers.speech.features.utterance_features`:
    frame descriptors, log-mel, functionals) needs per second of audio, on generated speech."""
    from .speech.features import utterance_features
    from .speech.synthesis import synthesize

    if not durations or min(durations) <= 0:
        raise ConfigError(f"durations must be positive seconds, got {tuple(durations)}")
    rows = []
    with torch_threads(threads) as n_threads:
        for duration in durations:
            wave = synthesize("neutral", speaker=0, seed=0, sr=sr, duration=float(duration))
            sec = time_calls(lambda y: utterance_features(y, sr), [wave], repeats, warmup=1)
            median = float(np.median(sec))
            rows.append({"audio_seconds": float(duration), "repeats": int(repeats),
                         "median_ms": round(1000 * median, 3),
                         "p95_ms": round(1000 * float(np.percentile(sec, 95)), 3),
                         "ms_per_audio_second": round(1000 * median / duration, 3),
                         "real_time_factor": round(median / duration, 5)})
    return {"extractor": "mmsa_helpers.speech.features.utterance_features", "sr": sr,
            "threads": int(n_threads), "rows": rows}


# --- records ------------------------------------------------------------------------
def _brief_config(model: str) -> dict[str, Any]:
    """The board's settings for ``model``, with one epoch where the model trains for epochs."""
    from .leaderboard import board_config
    from .models import get_spec

    config = board_config(model)
    if "epochs" in get_spec(model).defaults:
        config["epochs"] = 1
    return config


def record_path(name: str, records_dir: str | Path = RECORDS_DIR) -> Path:
    return Path(records_dir) / f"{name}.json"


def latency_record(model: str, corpus: Corpus | None = None, *, batch_sizes: Sequence[int] = BATCH_SIZES,
                   repeats: int = REPEATS, threads: int | None = 1, seed: int = 0) -> dict[str, Any]:
    """Fit ``model`` briefly on the embedded corpus (seed ``seed``, the board's settings, one epoch)
    and time it on the test split: a record of the book's format (``task`` ``"latency"``)."""
    from .experiment import load_for_model
    from .models import get_spec
    from .records import make_record
    from .training import count_parameters

    spec = get_spec(model)
    config = _brief_config(model)
    with torch_threads(threads):
        if corpus is None or corpus.aligned != spec.aligned:
            corpus = load_for_model("synthetic", model)
        t0 = time.perf_counter()
        fitted = spec.build(**config).fit(corpus, seed=seed)
        fit_seconds = time.perf_counter() - t0
        result = measure_latency(fitted, corpus, "test", batch_sizes, repeats=repeats, threads=threads, seed=seed)
    per_seed = {"seed": seed, "test": flat(result), "train_seconds": round(fit_seconds, 3)}
    net = getattr(fitted, "net", None)
    if net is not None:
        per_seed["n_parameters"] = count_parameters(net)
    record = make_record(task="latency", dataset=corpus.name, model=model, config=spec.resolve(**config),
                         seeds=[seed], per_seed=[per_seed], aligned=corpus.aligned, sizes=corpus.sizes(),
                         latency=result)
    record["command"] = latency_command(model, batch_sizes, repeats, threads)
    return record


def speech_features_record(repeats: int = 5, threads: int | None = 1) -> dict[str, Any]:
    """The acoustic extractor's timing as a record of the book's format."""
    from .records import make_record

    result = measure_speech_features(repeats=repeats, threads=threads)
    longest = max(result["rows"], key=lambda r: r["audio_seconds"])
    metrics = {"ms_per_audio_second": longest["ms_per_audio_second"],
               "real_time_factor": longest["real_time_factor"]}
    record = make_record(task="latency", dataset="synthetic_speech", model=SPEECH_FEATURES,
                         config={"sr": result["sr"], "durations": [r["audio_seconds"] for r in result["rows"]]},
                         seeds=[0], per_seed=[{"seed": 0, "test": metrics}], latency=result)
    record["command"] = f"python -m mmsa_helpers latency -m {SPEECH_FEATURES} --threads {threads}"
    return record


def latency_command(model: str, batch_sizes: Sequence[int], repeats: int, threads: int | None) -> str:
    return (f"python -m mmsa_helpers latency -m {model}" + "".join(f" -b {b}" for b in batch_sizes)
            + f" --repeats {repeats}" + (f" --threads {threads}" if threads else ""))


def collect(models: Iterable[str] | None = None, records_dir: str | Path = RECORDS_DIR, remake: bool = False,
            batch_sizes: Sequence[int] = BATCH_SIZES, repeats: int = REPEATS, threads: int | None = 1,
            log=print) -> dict[str, dict]:
    """The latency record of every leaderboard model and of the acoustic extractor: read from
    ``records_dir``, measured where missing (or all with ``remake``)."""
    from .leaderboard import BOARD_MODELS
    from .records import load_record, save_record

    names = list(models) if models is not None else [*BOARD_MODELS, SPEECH_FEATURES]
    out, corpora = {}, {}
    for name in names:
        path = record_path(name, records_dir)
        if not remake and path.exists():
            out[name] = load_record(path)
            continue
        if log:
            log(f"timing {name} -> {path}")
        if name == SPEECH_FEATURES:
            record = speech_features_record(threads=threads)
        else:
            from .models import get_spec

            aligned = get_spec(name).aligned
            if aligned not in corpora:
                from .experiment import load_for_model

                corpora[aligned] = load_for_model("synthetic", name)
            record = latency_record(name, corpora[aligned], batch_sizes=batch_sizes, repeats=repeats,
                                    threads=threads)
        save_record(record, path)
        out[name] = record
    return out


def check_record(record: dict) -> dict:
    """Refuse a record that is not a latency record (wrong task or no timings); return it."""
    if record.get("task") != "latency" or "latency" not in record:
        raise MMSADataError(f"record of {record.get('model')!r} is a {record.get('task')!r} record, not a latency "
                            "record; make one with `python -m mmsa_helpers latency`")
    return record


def latency_frame(records: dict[str, dict]):
    """One row per model: family, ms per utterance at batch 1 (median, p95), utterances/s at the
    largest batch, the encoder's share where a live system adds it, and the live total."""
    import pandas as pd

    from .models import get_spec

    rows = []
    for name, rec in records.items():
        if name == SPEECH_FEATURES:
            continue
        lat = check_record(rec)["latency"]
        b1 = next((r for r in lat["batches"] if r["batch_size"] == 1), None)
        big = max(lat["batches"], key=lambda r: r["batch_size"])
        enc = lat.get("encoder") or []
        enc1 = next((r for r in enc if r["batch_size"] == 1), None)
        enc_big = next((r for r in enc if r["batch_size"] == big["batch_size"]), None)
        row = {"model": name, "family": get_spec(rec["model"]).family,
               "b1_median_ms": b1["median_ms"] if b1 else np.nan, "b1_p95_ms": b1["p95_ms"] if b1 else np.nan,
               "batch": big["batch_size"], "batched_utt_per_s": big["utterances_per_s"],
               "encoder_b1_ms": enc1["median_ms"] if enc1 else 0.0}
        row["live_b1_ms"] = row["b1_median_ms"] + row["encoder_b1_ms"]
        seconds_per_utt = 1.0 / big["utterances_per_s"] + (1.0 / enc_big["utterances_per_s"] if enc_big else 0.0)
        row["live_batched_utt_per_s"] = 1.0 / seconds_per_utt
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")
