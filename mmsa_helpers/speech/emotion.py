"""Speech-emotion classifiers and speaker-independent evaluation (chapter 7, "Speech").

Three models, from classic to neural:

* ``"svm"``: utterance functionals (:func:`~mmsa_helpers.speech.features.functionals`),
  standardised, into a linear support-vector machine (scikit-learn);
* ``"cnn"``: a small 2-D CNN over the log-mel spectrogram, max-pooled over time;
* ``"gru"``: a bidirectional GRU over the frame descriptors with attention pooling.

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

from ..metrics import confusion_matrix, eval_classification
from ..models.neural_text import AttentionPooling, masked_max
from ..training import TrainConfig, fit_regressor

MODELS = ("svm", "cnn", "gru")


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
        x = batch["x"].unsqueeze(1)                             # (B, 1, T, M)
        h = self.conv(x)                                        # (B, C, T/4, M/4)
        h = h.permute(0, 2, 1, 3).flatten(2)                    # (B, T/4, C*M/4)
        mask = batch["mask"][:, ::4][:, : h.shape[1]]           # a frame of h is real if its first input frame is
        return self.head(masked_max(h, mask))


class FrameGRU(nn.Module):
    """Bidirectional GRU over frame descriptors, attention pooling, linear head."""

    def __init__(self, n_classes: int, n_in: int, hidden: int = 32, dropout: float = 0.3):
        super().__init__()
        self.rnn = nn.GRU(n_in, hidden, batch_first=True, bidirectional=True)
        self.pool = AttentionPooling(2 * hidden, hidden=32)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * hidden, n_classes))

    def forward(self, batch: dict) -> torch.Tensor:
        h, _ = self.rnn(batch["x"][:, ::2].contiguous())        # every second frame: 20 ms steps
        pooled, _ = self.pool(h, batch["mask"][:, ::2])
        return self.head(pooled)


def cross_entropy(logits: torch.Tensor, batch: dict) -> torch.Tensor:
    """The classification loss for :func:`fit_regressor`: labels are class indices."""
    return nn.functional.cross_entropy(logits, batch["labels"]["M"].long())


def pad_batch(seqs: list[np.ndarray], labels: np.ndarray | None = None) -> dict:
    """Pad (frames, F) arrays to ``{"x": (B, T, F), "mask": (B, T), "labels": {"M": (B,)}}``."""
    T = max(len(s) for s in seqs)
    x = np.zeros((len(seqs), T, seqs[0].shape[1]), np.float32)
    mask = np.zeros((len(seqs), T), bool)
    for i, s in enumerate(seqs):
        x[i, : len(s)], mask[i, : len(s)] = s, True
    lab = np.zeros(len(seqs)) if labels is None else np.asarray(labels)
    return {"x": torch.from_numpy(x), "mask": torch.from_numpy(mask),
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


def build_network(model: str, n_classes: int, n_in: int) -> nn.Module:
    if model == "cnn":
        return LogMelCNN(n_classes, n_mels=n_in)
    if model == "gru":
        return FrameGRU(n_classes, n_in)
    raise ValueError(f"unknown model {model!r}; choose one of {MODELS}")


def train_network(model: str, seqs, y: np.ndarray, n_classes: int, cfg: TrainConfig | None = None,
                  seed: int = 0, valid_share: float = 0.15) -> nn.Module:
    """Train a ``"cnn"`` or ``"gru"`` on sequences ``seqs`` with class indices ``y``;
    ``valid_share`` of the utterances (stratified) choose the epoch."""
    from sklearn.model_selection import train_test_split

    torch.manual_seed(seed)
    cfg = cfg or TrainConfig(epochs=20, lr=3e-3, weight_decay=1e-4, patience=5, progress=False, device="cpu")
    idx = np.arange(len(seqs))
    tr, va = train_test_split(idx, test_size=valid_share, stratify=y, random_state=seed)
    net = build_network(model, n_classes, seqs[0].shape[1])
    fit_regressor(net, Batches([seqs[i] for i in tr], y[tr], shuffle=True, seed=seed),
                  Batches([seqs[i] for i in va], y[va], batch_size=64), cfg, loss_fn=cross_entropy)
    return net


def predict_network(net: nn.Module, seqs) -> np.ndarray:
    """Class index with the highest logit for each sequence."""
    net.eval()
    out = []
    with torch.no_grad():
        for batch in Batches(seqs, np.zeros(len(seqs)), batch_size=64):
            out.append(net({k: v.cpu() if torch.is_tensor(v) else v for k, v in batch.items()}).argmax(1).numpy())
    return np.concatenate(out)


# ---------------------------------------------------------------------------
# Features per model, fitting and evaluation
# ---------------------------------------------------------------------------

def model_inputs(features: list[dict], model: str, speakers=None, speaker_norm: bool = True):
    """What each model reads: functionals (array) for ``"svm"``, log-mel sequences
    for ``"cnn"``, frame descriptors for ``"gru"``; z-scored per speaker if asked."""
    if model == "svm":
        x = np.stack([f["functionals"] for f in features])
    elif model == "cnn":
        x = [f["logmel"] for f in features]
    elif model == "gru":
        x = [f["lld"] for f in features]
    else:
        raise ValueError(f"unknown model {model!r}; choose one of {MODELS}")
    if speaker_norm:
        x = speaker_zscore(x, speakers)
    elif model != "svm":  # networks still need inputs of unit scale: one global z-score
        rows = np.concatenate(x)
        mean, std = rows.mean(0), rows.std(0) + 1e-6
        x = [((s - mean) / std).astype(np.float32) for s in x]
    return x


def fit_predict(model: str, x_train, y_train: np.ndarray, x_test, n_classes: int, seed: int = 0,
                cfg: TrainConfig | None = None) -> np.ndarray:
    """Train ``model`` on ``(x_train, y_train)`` and return class indices for ``x_test``."""
    if model == "svm":
        return make_svm().fit(x_train, y_train).predict(x_test)
    net = train_network(model, x_train, y_train, n_classes, cfg=cfg, seed=seed)
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


def cross_validate(features: list[dict], emotions, speakers, model: str = "svm", split: str = "loso",
                   speaker_norm: bool = True, n_folds: int = 5, seed: int = 0,
                   cfg: TrainConfig | None = None) -> dict[str, Any]:
    """Cross-validated predictions for every utterance.

    ``split="loso"``: leave one speaker out (each fold tests on a speaker no
    model saw); ``split="random"``: stratified random folds that mix every
    speaker into training and test (optimistic). Returns :func:`summarise`'s
    dict plus ``per_speaker`` UAR.
    """
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

    emotions, speakers = np.asarray(emotions), np.asarray(speakers)
    classes = sorted(set(emotions))
    y = np.array([classes.index(e) for e in emotions])
    x = model_inputs(features, model, speakers, speaker_norm)
    if split == "loso":
        folds = LeaveOneGroupOut().split(y, y, speakers)
    elif split == "random":
        folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(y, y)
    else:
        raise ValueError(f"split must be 'loso' or 'random', not {split!r}")
    pred = np.empty(len(y), dtype=int)
    for k, (tr, te) in enumerate(folds):
        pred[te] = fit_predict(model, _take(x, tr), y[tr], _take(x, te), len(classes), seed=seed + k, cfg=cfg)
    labels = np.array(classes)[pred]
    per_speaker = {s: eval_classification(labels[speakers == s], emotions[speakers == s])["UAR"]
                   for s in np.unique(speakers)}
    return summarise(labels, emotions, classes, per_speaker=per_speaker, model=model, split=split,
                     speaker_norm=speaker_norm)


def evaluate_emodb(train_root, eval_root=None, model: str = "svm", speaker_norm: bool = True,
                   seed: int = 0, cache: bool = True) -> dict[str, Any]:
    """Speech-emotion recognition on EMO-DB with speaker-independent splits.

    Without ``eval_root``: leave-one-speaker-out over the speakers under
    ``train_root``. With ``eval_root``: train on every recording under
    ``train_root``, test on those under ``eval_root`` (other speakers, e.g. the
    other half of EMO-DB). Features are cached (:func:`~mmsa_helpers.speech.features.extract_files`).
    Returns accuracy, UAR, weighted and macro F1, the confusion matrix, predictions
    and the number of utterances.
    """
    from ..real_data import load_emodb
    from .features import extract_files

    train = load_emodb(train_root)["all"]
    feats = extract_files(train["path"], cache=cache)
    if eval_root is None:
        out = cross_validate(feats, train["emotion"], train["speaker"], model=model, split="loso",
                             speaker_norm=speaker_norm, seed=seed)
        out["n"] = len(feats)
        return out
    test = load_emodb(eval_root)["all"]
    overlap = set(train["speaker"]) & set(test["speaker"])
    if overlap:
        raise ValueError(f"speakers {sorted(overlap)} are in both folders; a speaker-independent test "
                         "needs disjoint speakers")
    test_feats = extract_files(test["path"], cache=cache)
    classes = sorted(set(train["emotion"]))
    y = np.array([classes.index(e) for e in train["emotion"]])
    x_tr = model_inputs(feats, model, train["speaker"], speaker_norm)
    x_te = model_inputs(test_feats, model, test["speaker"], speaker_norm)
    pred = fit_predict(model, x_tr, y, x_te, len(classes), seed=seed)
    out = summarise(np.array(classes)[pred], test["emotion"], classes, model=model, speaker_norm=speaker_norm)
    out["n"] = len(test_feats)
    return out
