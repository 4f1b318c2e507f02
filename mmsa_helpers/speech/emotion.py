"""Speech-emotion classifiers and speaker-independent evaluation (chapter 7, "Speech").

Five models, from classic to neural (``audio_<name>`` on the command line):

* ``"svm"``: utterance functionals (:func:`~mmsa_helpers.speech.features.functionals`),
  standardised, into a linear support-vector machine (scikit-learn);
* ``"cnn"``: a small 2-D CNN over the log-mel spectrogram, max-pooled over time;
* ``"lstm"``, ``"gru"``: a bidirectional LSTM/GRU over the frame descriptors with
  attention pooling, and ``"tcn"``: a temporal convolution network over them.
  These are the sequence networks of the sentiment regressors
  (:mod:`mmsa_helpers.models.sequence`) with one output per emotion.

The neural models return logits and are trained with the book's one loop
(:func:`~mmsa_helpers.training.fit_regressor`) and a cross-entropy loss.

Speakers differ more than emotions do (a low male voice and a high female one),
so features can be **z-scored per speaker** (:func:`speaker_zscore`): each
speaker's features are centred and scaled with that speaker's own statistics,
which needs the speaker's recordings but not their labels. Evaluation is
leave-one-speaker-out (:func:`cross_validate`) or train-on-A/test-on-B
(:func:`evaluate_emodb` with ``eval_root``); metrics are accuracy, UAR and
weighted F1 (:func:`~mmsa_helpers.metrics.eval_classification`).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, MMSADataError
from ..metrics import confusion_matrix, eval_classification
from ..models.neural_text import masked_max
from ..training import TrainConfig, fit_regressor

#: The speech-emotion models (``audio_<name>`` on the command line), one line each for ``train -m list``.
MODEL_DESCRIPTIONS = {
    "svm": "linear SVM on utterance functionals (openSMILE-style statistics)",
    "cnn": "2-D CNN on the log-mel spectrogram",
    "lstm": "BiLSTM with attention pooling over frame descriptors",
    "gru": "BiGRU with attention pooling over frame descriptors",
    "tcn": "temporal convolution network over frame descriptors",
}
MODELS = tuple(MODEL_DESCRIPTIONS)
#: Recurrent and convolutional models read pairs of 10 ms frames averaged (20 ms steps): half as many steps to run.
FRAME_STEP = 2


# ---------------------------------------------------------------------------
# Speaker normalisation
# ---------------------------------------------------------------------------

def speaker_zscore(features: list[np.ndarray] | np.ndarray, speakers) -> list[np.ndarray] | np.ndarray:
    """Z-score features per speaker. ``features``: an array (utterances, F) or a list
    of (frames, F) arrays (statistics over all frames of the speaker)."""
    speakers = np.asarray(speakers)
    is_array = isinstance(features, np.ndarray)
    out = [None] * len(speakers) if not is_array else np.empty_like(features, dtype=np.float32)
    for spk in np.unique(speakers):
        idx = np.flatnonzero(speakers == spk)
        rows = np.concatenate([np.atleast_2d(features[i]) for i in idx])
        mean, std = rows.mean(0), rows.std(0) + 1e-6
        for i in idx:
            out[i] = ((features[i] - mean) / std).astype(np.float32)
    return out


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

#: Settings of the emotion models and their defaults (``--set KEY=VALUE`` on the CLI).
DEFAULTS: dict[str, Any] = dict(C=0.01, hidden=32, epochs=20, lr=3e-3, weight_decay=1e-4, patience=5,
                                batch_size=16, dropout=0.3, speaker_norm=True)


def canonical_model(name: str) -> str:
    """``"audio_gru"`` -> ``"gru"`` (the CLI and the registry use ``audio_`` names)."""
    short = name[len("audio_"):] if name.startswith("audio_") else name
    if short not in MODELS:
        raise ConfigError(f"unknown speech-emotion model {name!r}; choose one of "
                          f"{', '.join('audio_' + m for m in MODELS)}")
    return short


def make_svm(C: float = 0.01):
    """Standardise, then a linear SVM with balanced class weights (a small ``C``:
    strong regularisation, since there are more functionals than utterances per class)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return make_pipeline(StandardScaler(), SVC(kernel="linear", C=C, class_weight="balanced"))


class LogMelCNN(nn.Module):
    """Two conv blocks over (time, mel), each halving time and frequency, max over
    the real frames, linear head."""

    def __init__(self, n_classes: int, n_mels: int = 40, channels: int = 8, dropout: float = 0.3):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.BatchNorm2d(2 * channels), nn.ReLU(),
            nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * channels * (n_mels // 4), n_classes))

    def forward(self, batch: dict) -> torch.Tensor:
        x = batch["audio"].unsqueeze(1)                         # (B, 1, T, M)
        h = self.conv(x)                                        # (B, C, T/4, M/4)
        h = h.permute(0, 2, 1, 3).flatten(2)                    # (B, T/4, C*M/4)
        mask = batch["audio_mask"][:, ::4][:, : h.shape[1]]     # a frame of h is real if its first input frame is
        return self.head(masked_max(h, mask))


def cross_entropy(logits: torch.Tensor, batch: dict) -> torch.Tensor:
    """The classification loss for :func:`fit_regressor`: labels are class indices."""
    return nn.functional.cross_entropy(logits, batch["labels"]["M"].long())


def pad_batch(seqs: list[np.ndarray], labels: np.ndarray | None = None) -> dict:
    """Pad (frames, F) arrays to the layout of :mod:`mmsa_helpers.torch_data`:
    ``{"audio": (B, T, F), "audio_mask": (B, T), "audio_lengths": (B,), "labels": {"M": (B,)}}``."""
    T = max(len(s) for s in seqs)
    x = np.zeros((len(seqs), T, seqs[0].shape[1]), np.float32)
    mask = np.zeros((len(seqs), T), bool)
    for i, s in enumerate(seqs):
        x[i, : len(s)], mask[i, : len(s)] = s, True
    lab = np.zeros(len(seqs)) if labels is None else np.asarray(labels)
    return {"audio": torch.from_numpy(x), "audio_mask": torch.from_numpy(mask),
            "audio_lengths": torch.as_tensor([len(s) for s in seqs]),
            "labels": {"M": torch.as_tensor(lab, dtype=torch.float32)}}


class Batches:
    """Mini-batches of padded sequences; reshuffled on every pass when ``shuffle``."""

    def __init__(self, seqs, labels, batch_size: int = 16, shuffle: bool = False, seed: int = 0):
        self.seqs, self.labels = list(seqs), np.asarray(labels)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        order = self.rng.permutation(len(self.seqs)) if self.shuffle else np.arange(len(self.seqs))
        for start in range(0, len(order), self.batch_size):
            idx = order[start: start + self.batch_size]
            yield pad_batch([self.seqs[i] for i in idx], self.labels[idx])

    def __len__(self):
        return -(-len(self.seqs) // self.batch_size)


def build_network(model: str, n_classes: int, n_in: int, hidden: int = 32, dropout: float = 0.3) -> nn.Module:
    """The network of ``model``: the log-mel CNN, or the book's sequence networks
    (:mod:`mmsa_helpers.models.sequence`) with ``n_classes`` outputs."""
    from ..models.sequence import SequenceRNN, TemporalConvNet

    model = canonical_model(model)
    if model == "cnn":
        return LogMelCNN(n_classes, n_mels=n_in, dropout=dropout)
    if model in ("lstm", "gru"):
        return SequenceRNN("audio", n_in, hidden, cell=model, dropout=dropout, n_out=n_classes)
    if model == "tcn":
        return TemporalConvNet("audio", n_in, hidden, dropout=dropout, n_out=n_classes)
    raise ValueError(f"{model!r} is not a network; the SVM is trained with make_svm()")


def train_network(model: str, seqs, y: np.ndarray, n_classes: int, seed: int = 0, valid_share: float = 0.15,
                  **settings) -> nn.Module:
    """Train a network on sequences ``seqs`` with class indices ``y``; a stratified
    ``valid_share`` of the utterances chooses the epoch (early stopping).
    ``settings``: any of :data:`DEFAULTS`."""
    from sklearn.model_selection import train_test_split

    s = {**DEFAULTS, **settings}
    torch.manual_seed(seed)
    cfg = TrainConfig(epochs=s["epochs"], lr=s["lr"], weight_decay=s["weight_decay"], patience=s["patience"],
                      progress=False, device="cpu")
    idx = np.arange(len(seqs))
    n_valid = max(n_classes, int(round(valid_share * len(seqs))))   # at least one utterance per class
    if len(seqs) - n_valid < n_classes:
        raise MMSADataError(f"{len(seqs)} training utterances are too few to train a network on {n_classes} "
                            f"classes with a validation share; record more, or use the SVM")
    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None       # stratify when every class can be split
    tr, va = train_test_split(idx, test_size=n_valid, stratify=stratify, random_state=seed)
    net = build_network(model, n_classes, seqs[0].shape[1], hidden=s["hidden"], dropout=s["dropout"])
    fit_regressor(net, Batches([seqs[i] for i in tr], y[tr], batch_size=s["batch_size"], shuffle=True, seed=seed),
                  Batches([seqs[i] for i in va], y[va], batch_size=64), cfg, loss_fn=cross_entropy)
    return net


def predict_network(net: nn.Module, seqs, return_weights: bool = False):
    """Class index with the highest logit for each sequence. With ``return_weights``
    (recurrent networks only) also the attention weights over each sequence's frames."""
    net.eval()
    out, weights = [], []
    with torch.no_grad():
        for batch in Batches(seqs, np.zeros(len(seqs)), batch_size=64):
            out.append(net(batch).argmax(1).numpy())
            if return_weights:
                w = getattr(net, "last_weights", None)
                if w is None:
                    raise ValueError(f"{type(net).__name__} has no attention weights")
                weights.extend(w[i, :n].numpy() for i, n in enumerate(batch["audio_lengths"].tolist()))
    pred = np.concatenate(out)
    return (pred, weights) if return_weights else pred


# ---------------------------------------------------------------------------
# Features per model, fitting and evaluation
# ---------------------------------------------------------------------------

def _pairs(seq: np.ndarray, step: int = FRAME_STEP) -> np.ndarray:
    """Average every ``step`` consecutive frames (10 ms frames -> 20 ms steps)."""
    n = max(len(seq) // step, 1) * step
    seq = seq[:n] if len(seq) >= n else np.concatenate([seq, np.repeat(seq[-1:], n - len(seq), 0)])
    return seq.reshape(-1, step, seq.shape[1]).mean(1)


def model_inputs(features: list[dict], model: str, speakers=None, speaker_norm: bool = True):
    """What each model reads: functionals (array) for ``"svm"``, log-mel sequences
    for ``"cnn"``, frame descriptors at 20 ms steps for ``"lstm"``, ``"gru"`` and
    ``"tcn"``; z-scored per speaker if asked (else, for the networks, with one
    global mean and standard deviation)."""
    model = canonical_model(model)
    if model == "svm":
        x = np.stack([f["functionals"] for f in features])
    elif model == "cnn":
        x = [f["logmel"] for f in features]
    else:
        x = [_pairs(f["lld"]) for f in features]
    if speaker_norm:
        if speakers is None:
            raise ConfigError("speaker_norm=True needs the speaker of every utterance")
        x = speaker_zscore(x, speakers)
    elif model != "svm":  # networks still need inputs of unit scale: one global z-score
        rows = np.concatenate(x)
        mean, std = rows.mean(0), rows.std(0) + 1e-6
        x = [((s - mean) / std).astype(np.float32) for s in x]
    return x


def fit_predict(model: str, x_train, y_train: np.ndarray, x_test, n_classes: int, seed: int = 0,
                **settings) -> np.ndarray:
    """Train ``model`` on ``(x_train, y_train)`` and return class indices for ``x_test``.
    ``settings``: any of :data:`DEFAULTS` (``C`` for the SVM, the rest for the networks)."""
    s = {**DEFAULTS, **settings}
    if canonical_model(model) == "svm":
        return make_svm(s["C"]).fit(x_train, y_train).predict(x_test)
    net = train_network(model, x_train, y_train, n_classes, seed=seed, **settings)
    return predict_network(net, x_test)


def _take(x, idx):
    return x[idx] if isinstance(x, np.ndarray) else [x[i] for i in idx]


def summarise(pred: list[str] | np.ndarray, true, classes: list[str], **extra) -> dict[str, Any]:
    """Metrics, a confusion matrix (rows: true; row-normalised) and the predictions."""
    pred, true = np.asarray(pred), np.asarray(true)
    out = eval_classification(pred, true, labels=classes)
    out["confusion"] = confusion_matrix(pred, true, labels=classes, normalize="true")
    out.update(pred=pred, true=true, **extra)
    return out


def uar_per_speaker(pred, true, speakers) -> dict[str, float]:
    """UAR of each speaker's utterances."""
    pred, true, speakers = np.asarray(pred), np.asarray(true), np.asarray(speakers)
    return {s: eval_classification(pred[speakers == s], true[speakers == s])["UAR"] for s in np.unique(speakers)}


def _check_settings(settings: dict) -> None:
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"unknown speech-emotion setting(s) {sorted(unknown)}; the settings are {sorted(DEFAULTS)}")


def cross_validate(features: list[dict], emotions, speakers, model: str = "svm", split: str = "loso",
                   speaker_norm: bool = True, n_folds: int = 5, seed: int = 0, **settings) -> dict[str, Any]:
    """Cross-validated predictions for every utterance.

    ``split="loso"``: leave one speaker out (each fold tests on a speaker no
    model saw); ``split="speaker_folds"``: ``n_folds`` folds of whole speakers
    (cheaper than LOSO, still speaker-independent); ``split="random"``:
    stratified random folds that mix every speaker into training and test (optimistic). Returns :func:`summarise`'s
    dict plus ``per_speaker`` UAR. ``settings``: any of :data:`DEFAULTS`.
    """
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold

    _check_settings(settings)
    model = canonical_model(model)
    emotions, speakers = np.asarray(emotions), np.asarray(speakers)
    if len(emotions) != len(features) or len(speakers) != len(features):
        raise MMSADataError(f"{len(features)} feature sets but {len(emotions)} emotions and {len(speakers)} speakers")
    classes = sorted(set(emotions))
    y = np.array([classes.index(e) for e in emotions])
    x = model_inputs(features, model, speakers, speaker_norm)
    if split == "loso":
        if len(set(speakers)) < 2:
            raise MMSADataError("leave-one-speaker-out needs recordings of at least two speakers")
        folds = LeaveOneGroupOut().split(y, y, speakers)
    elif split == "speaker_folds":
        if len(set(speakers)) < n_folds:
            raise MMSADataError(f"{n_folds} speaker folds need at least {n_folds} speakers, not {len(set(speakers))}")
        folds = GroupKFold(n_folds).split(y, y, speakers)
    elif split == "random":
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(y, y)
    else:
        raise ConfigError(f"split must be 'loso', 'speaker_folds' or 'random', not {split!r}")
    pred = np.empty(len(y), dtype=int)
    for k, (tr, te) in enumerate(folds):
        pred[te] = fit_predict(model, _take(x, tr), y[tr], _take(x, te), len(classes), seed=seed + k, **settings)
    labels = np.array(classes)[pred]
    return summarise(labels, emotions, classes, per_speaker=uar_per_speaker(labels, emotions, speakers),
                     model=model, split=split, speaker_norm=speaker_norm)


def train_test(train_features, train_emotions, train_speakers, test_features, test_emotions, test_speakers,
               model: str = "svm", speaker_norm: bool = True, seed: int = 0, **settings) -> dict[str, Any]:
    """Train on one set of speakers, test on another (disjoint) set: :func:`summarise`'s
    dict plus ``per_speaker`` UAR on the test speakers."""
    _check_settings(settings)
    model = canonical_model(model)
    overlap = set(train_speakers) & set(test_speakers)
    if overlap:
        raise MMSADataError(f"speakers {sorted(overlap)} are in both the training and the test recordings; "
                            "a speaker-independent test needs disjoint speakers")
    classes = sorted(set(train_emotions))
    unseen = sorted(set(test_emotions) - set(classes))
    if unseen:
        raise MMSADataError(f"the test recordings have emotions {unseen} that no training recording has")
    y = np.array([classes.index(e) for e in train_emotions])
    x_tr = model_inputs(train_features, model, train_speakers, speaker_norm)
    x_te = model_inputs(test_features, model, test_speakers, speaker_norm)
    labels = np.array(classes)[fit_predict(model, x_tr, y, x_te, len(classes), seed=seed, **settings)]
    emotions = np.asarray(test_emotions)
    return summarise(labels, emotions, classes, per_speaker=uar_per_speaker(labels, emotions, test_speakers),
                     model=model, split="train/test", speaker_norm=speaker_norm)


#: Datasets whose task is speech emotion (the others are sentiment regression).
EMOTION_DATASETS = ("emodb", "synthetic_speech")


def emotion_features(dataset: str, data_root=None, eval_root=None, cache: bool = True, **generator):
    """Load a speech-emotion dataset and its (cached) features: ``(train, test)``,
    each a dict with ``features``, ``emotion``, ``speaker`` and ``id``; ``test`` is
    None unless ``eval_root`` (EMO-DB only) names a second folder of other speakers.
    ``generator``: settings of :func:`~mmsa_helpers.speech.make_corpus` for ``synthetic_speech``."""
    from ..real_data import load_emodb
    from .features import extract_files, extract_waveforms

    def pack(split, feats):
        return {"features": feats, "emotion": list(split["emotion"]), "speaker": list(split["speaker"]),
                "id": list(split["id"])}

    if dataset == "synthetic_speech":
        if eval_root is not None:
            raise ConfigError("--eval-root applies to EMO-DB only; synthetic_speech is evaluated "
                              "leave-one-speaker-out over its generated speakers")
        from .synthesis import make_corpus

        split = make_corpus(**generator)["all"]
        return pack(split, extract_waveforms(split["audio"], split["sr"][0], cache=cache)), None
    if dataset != "emodb":
        raise ConfigError(f"{dataset!r} is not a speech-emotion dataset; choose one of {EMOTION_DATASETS}")
    if generator:
        raise ConfigError(f"settings {sorted(generator)} apply to synthetic_speech only")
    train = load_emodb(data_root)["all"]
    test = load_emodb(eval_root)["all"] if eval_root is not None else None
    if test is not None:
        overlap = set(train["speaker"]) & set(test["speaker"])
        if overlap:  # before any audio is decoded
            raise MMSADataError(f"speakers {sorted(overlap)} are in both folders (--data-root and --eval-root); "
                                "a speaker-independent test needs disjoint speakers")
    train_pack = pack(train, extract_files(train["path"], cache=cache))
    return train_pack, (pack(test, extract_files(test["path"], cache=cache)) if test is not None else None)


def evaluate_emodb(train_root, eval_root=None, model: str = "svm", speaker_norm: bool = True,
                   seed: int = 0, cache: bool = True, **settings) -> dict[str, Any]:
    """Speech-emotion recognition on EMO-DB with speaker-independent splits.

    Without ``eval_root``: leave-one-speaker-out over the speakers under
    ``train_root``. With ``eval_root``: train on every recording under
    ``train_root``, test on those under ``eval_root`` (other speakers, e.g. the
    other half of EMO-DB). Features are cached (:func:`~mmsa_helpers.speech.features.extract_files`).
    Returns accuracy, UAR, weighted and macro F1, the confusion matrix, predictions
    and the number of test utterances ``n``.
    """
    train, test = emotion_features("emodb", train_root, eval_root, cache=cache)
    if test is None:
        out = cross_validate(train["features"], train["emotion"], train["speaker"], model=model, split="loso",
                             speaker_norm=speaker_norm, seed=seed, **settings)
    else:
        out = train_test(train["features"], train["emotion"], train["speaker"], test["features"],
                         test["emotion"], test["speaker"], model=model, speaker_norm=speaker_norm, seed=seed,
                         **settings)
    out["n"] = len((test or train)["features"])
    return out
