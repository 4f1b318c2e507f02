"""Self-MM (Yu et al., AAAI 2021) with its unimodal label generation module, ULGM (chapter 12).

Self-MM trains four tasks at once: the multimodal sentiment (against the human
label ``y_m``) and one task per modality (text, audio, vision) against
*generated* unimodal labels, the u-labels. Nobody annotates those: ULGM moves
each utterance's u-label away from ``y_m`` by how much closer the modality's
feature sits to the positive than to the negative class centre, compared with
the fused feature.

The book follows MMSA's code (``models/multiTask/SELF_MM.py`` and
``trains/multiTask/SELF_MM.py``, v2.2.1), which is the reference: the paper's
hyperparameters were lost. Where the paper and the code differ, the code wins,
and each such place is listed in :class:`ULGM` and in chapter 12:

* centres are means of a *feature bank* (one row per training utterance),
  recomputed after every batch, not per epoch;
* the banks start at zero, so in epoch 1 the centres are pulled towards the
  origin by the rows not yet seen;
* a stored feature is stale: it is the one computed when its utterance was last
  in a batch, under older weights;
* utterances labelled exactly 0 belong to neither class (``exclude_zero``; the
  original Self-MM repository counts them as positive);
* the relative distance divides by ``d+ + eps`` with ``eps = 1e-8``;
* labels change from epoch 2 on, blended as ``(n-1)/(n+1) * old + 2/(n+1) * new``,
  the new value clamped to ``[-H, H]``;
* unimodal losses are weighted by ``tanh(|y_s - y_m|)``, zero all through epoch 1;
* MMSA's ``update_epochs=4`` is gradient accumulation over 4 batches with the
  losses summed, and the last partial group of an epoch is dropped;
* Adam with five parameter groups (encoder with and without weight decay,
  audio subnet, vision subnet, the rest).

Where the book's version differs from MMSA's code (each one measured or argued
in chapter 12):

* the text encoder is frozen by default and its sentence vectors are computed
  once and cached (MMSA re-encodes every batch, with dropout, even when
  frozen); ``finetune=True`` fine-tunes it inside the model as MMSA does;
* the offline encoder is all-MiniLM-L6-v2 (384 dimensions, MMSA uses
  bert-base-uncased, 768); its sentence vector is the first token's state,
  MMSA's choice (``pooling="mean"`` is the alternative);
* audio and vision frames are standardised with training-set statistics, and
  an all-zero (missing) stream has length 0 (the book's batch format);
* batches are cut to their longest text, not padded to 50 tokens;
* the validation loss is a per-utterance mean (MMSA: mean of batch means);
* there is a ceiling of ``epochs`` (MMSA trains until early stopping);
* a class with no member keeps its previous centre (MMSA's mean of an empty
  set is NaN and would turn every label into NaN).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..corpus import UNIMODAL_LABEL_KEY, Corpus
from ..errors import ConfigError, MMSADataError, SettingError
from ..pretrained import DEFAULT_ENCODER
from ..torch_data import MultimodalDataset, fit_scalers, make_loader
from ..training import Module, TrainConfig, TrainHistory, Trainer, collect_outputs, count_parameters, predict
from .base import register

UNIMODAL = ("text", "audio", "vision")
MODES = ("fusion", *UNIMODAL)
LETTER = {"fusion": "M", "text": "T", "audio": "A", "vision": "V"}


# --- ULGM -----------------------------------------------------------------------
class ULGM:
    """The unimodal label generation module: feature banks, class centres and u-labels, in torch.

    Parameters
    ----------
    y_m:
        Multimodal labels of the training split, shape (N,), in row order (batches carry each
        utterance's row as ``index``).
    dims:
        Feature size per mode (``fusion``, ``text``, ``audio``, ``vision``).
    H:
        Bound of the labels: u-labels are clamped to ``[-H, H]`` (3 for MOSI/MOSEI, 1 for SIMS).
    exclude_zero:
        True (MMSA): an utterance labelled exactly 0 is in neither class; False (the original
        Self-MM code): 0 counts as positive.
    eps:
        The small number in the ratios (MMSA's ``MIN = 1e-8``).

    Everything is a tensor operation over the batch (no Python loop over utterances); a centre
    is one masked mean over the bank, ``O(N * d)`` per batch.
    """

    def __init__(self, y_m, dims: dict[str, int], H: float = 3.0, exclude_zero: bool = True, eps: float = 1e-8,
                 device: str | torch.device = "cpu"):
        y_m = torch.as_tensor(np.asarray(y_m, dtype=np.float32), device=device).view(-1)
        if not torch.isfinite(y_m).all():
            rows = torch.nonzero(~torch.isfinite(y_m)).view(-1)[:5].tolist()
            raise MMSADataError(f"ULGM needs finite multimodal labels; rows {rows} are NaN or inf")
        missing = set(MODES) - set(dims)
        if missing:
            raise ValueError(f"ULGM needs a feature size for every mode; missing {sorted(missing)}")
        self.H, self.exclude_zero, self.eps = float(H), exclude_zero, eps
        self.n = len(y_m)
        self.labels = {m: y_m.clone() for m in MODES}          # the fusion bank stays y_m
        self.features = {m: torch.zeros(self.n, int(dims[m]), device=device) for m in MODES}
        self.centres = {m: (torch.zeros(int(dims[m]), device=device), torch.zeros(int(dims[m]), device=device))
                        for m in MODES}

    @property
    def y_m(self) -> torch.Tensor:
        return self.labels["fusion"]

    def to(self, device) -> "ULGM":
        for bank in (self.labels, self.features):
            for m in bank:
                bank[m] = bank[m].to(device)
        self.centres = {m: (p.to(device), q.to(device)) for m, (p, q) in self.centres.items()}
        return self

    # the steps, in the order the chapter explains them -----------------------------
    def update_centres(self) -> None:
        """C+ and C-: plain means of the bank rows whose current label is > 0 (>= 0) and < 0."""
        for m in MODES:
            lab, bank = self.labels[m], self.features[m]
            pos = lab > 0 if self.exclude_zero else lab >= 0
            neg = lab < 0
            old_pos, old_neg = self.centres[m]
            self.centres[m] = (_masked_mean(bank, pos, old_pos), _masked_mean(bank, neg, old_neg))

    def relative_distance(self, features: torch.Tensor, mode: str) -> torch.Tensor:
        """delta = (d- - d+) / (d+ + eps), with d+- the L2 distances to the class centres (not squared)."""
        pos, neg = self.centres[mode]
        d_pos = torch.linalg.vector_norm(features - pos, dim=-1)
        d_neg = torch.linalg.vector_norm(features - neg, dim=-1)
        return (d_neg - d_pos) / (d_pos + self.eps)

    def new_labels(self, features: dict[str, torch.Tensor], index: torch.Tensor) -> dict[str, torch.Tensor]:
        """The proposal y_s_hat = 0.5 alpha y_m + 0.5 (y_m + delta_s - delta_m), alpha = delta_s / (delta_m + eps),
        clamped to [-H, H]; one tensor per unimodal mode."""
        y_m = self.y_m[index]
        delta_m = self.relative_distance(features["fusion"], "fusion")
        out = {}
        for s in UNIMODAL:
            delta_s = self.relative_distance(features[s], s)
            alpha = delta_s / (delta_m + self.eps)
            proposal = 0.5 * alpha * y_m + 0.5 * (y_m + delta_s - delta_m)
            out[s] = proposal.clamp(-self.H, self.H)
        return out

    @staticmethod
    def smoothing(epoch: int) -> tuple[float, float]:
        """Weights of the old label and of the proposal in epoch ``n``: ((n-1)/(n+1), 2/(n+1))."""
        return (epoch - 1) / (epoch + 1), 2 / (epoch + 1)

    def update(self, index, features: dict[str, torch.Tensor], epoch: int, update_labels: bool = True) -> None:
        """One training batch, after its backward pass: move the batch's u-labels (from epoch 2 on, with the
        centres of the bank as it was), then store the batch's features and recompute the centres."""
        index = torch.as_tensor(index, device=self.y_m.device).view(-1)
        feats = {m: features[m].detach().to(self.y_m.device, torch.float32) for m in MODES}
        if update_labels and epoch > 1:
            keep, take = self.smoothing(epoch)
            for s, proposal in self.new_labels(feats, index).items():
                self.labels[s][index] = keep * self.labels[s][index] + take * proposal
        for m in MODES:
            self.features[m][index] = feats[m]
        self.update_centres()

    def loss_weights(self, index, mode: str) -> torch.Tensor:
        """``tanh(|y_s - y_m|)`` for the batch: a u-label equal to y_m teaches nothing new, so it weighs 0."""
        index = torch.as_tensor(index, device=self.y_m.device).view(-1)
        return torch.tanh(torch.abs(self.labels[mode][index] - self.y_m[index]))

    def snapshot(self) -> dict[str, np.ndarray]:
        """The current u-labels as numpy arrays, by modality letter (M, T, A, V)."""
        return {LETTER[m]: self.labels[m].detach().cpu().numpy().copy() for m in MODES}


def _masked_mean(bank: torch.Tensor, mask: torch.Tensor, fallback: torch.Tensor) -> torch.Tensor:
    count = mask.sum()
    if count == 0:
        return fallback
    return (mask.to(bank.dtype) @ bank) / count


# --- the network ------------------------------------------------------------------
class AuViSubNet(nn.Module):
    """MMSA's audio/vision subnet: a packed LSTM, its last hidden state, dropout, a linear layer."""

    def __init__(self, in_dim: int, hidden: int, out: int, layers: int = 1, dropout: float = 0.0):
        super().__init__()
        self.rnn = nn.LSTM(in_dim, hidden, num_layers=layers, dropout=dropout if layers > 1 else 0.0, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, out)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True,
                                                   enforce_sorted=False)
        _, (h, _) = self.rnn(packed)
        return self.linear(self.drop(h[-1]))


class Head(nn.Module):
    """dropout -> Linear+ReLU (the mode's ULGM feature) -> Linear+ReLU -> Linear(., 1)."""

    def __init__(self, in_dim: int, post_dim: int, dropout: float):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.layer_1 = nn.Linear(in_dim, post_dim)
        self.layer_2 = nn.Linear(post_dim, post_dim)
        self.layer_3 = nn.Linear(post_dim, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feature = torch.relu(self.layer_1(self.drop(x)))
        return self.layer_3(torch.relu(self.layer_2(feature))).squeeze(-1), feature


class SelfMMNet(Module):
    """Self-MM's network and training step (the loss with generated labels, the ULGM hook).

    ``text_dim`` is the encoder's hidden size; with ``encoder`` (a transformers model) the text
    branch runs it on ``batch["text_bert"]`` and fine-tunes it, without one it reads the cached
    sentence vectors ``batch["text_vec"]``.
    """

    def __init__(self, dims: dict[str, int], text_dim: int, encoder: nn.Module | None = None, pooling: str = "cls",
                 a_lstm_hidden: int = 16, v_lstm_hidden: int = 32, a_lstm_dropout: float = 0.0,
                 v_lstm_dropout: float = 0.0, audio_out: int = 16, video_out: int = 32, post_fusion_dim: int = 128,
                 post_text_dim: int = 32, post_audio_dim: int = 16, post_video_dim: int = 32,
                 post_fusion_dropout: float = 0.0, post_text_dropout: float = 0.1, post_audio_dropout: float = 0.1,
                 post_video_dropout: float = 0.0, lr_bert: float = 5e-5, lr_audio: float = 5e-3,
                 lr_video: float = 5e-3, lr_other: float = 1e-3, wd_bert: float = 1e-3, wd_audio: float = 1e-3,
                 wd_video: float = 1e-3, wd_other: float = 1e-3, unimodal_tasks: bool = True,
                 update_labels: bool = True, weighting: str = "tanh"):
        super().__init__()
        if weighting not in ("tanh", "none"):
            raise ConfigError("weighting must be 'tanh' (Self-MM) or 'none' (every unimodal sample weighs 1)")
        if pooling not in ("cls", "mean"):
            raise ConfigError("pooling must be 'cls' (the first token, MMSA) or 'mean'")
        self.text_model, self.pooling = encoder, pooling
        self.audio_model = AuViSubNet(dims["audio"], a_lstm_hidden, audio_out, dropout=a_lstm_dropout)
        self.video_model = AuViSubNet(dims["vision"], v_lstm_hidden, video_out, dropout=v_lstm_dropout)
        self.fusion_head = Head(text_dim + audio_out + video_out, post_fusion_dim, post_fusion_dropout)
        self.text_head = Head(text_dim, post_text_dim, post_text_dropout)
        self.audio_head = Head(audio_out, post_audio_dim, post_audio_dropout)
        self.video_head = Head(video_out, post_video_dim, post_video_dropout)
        self.post_dims = {"fusion": post_fusion_dim, "text": post_text_dim, "audio": post_audio_dim,
                          "vision": post_video_dim}
        self.rates = dict(bert=(lr_bert, wd_bert), audio=(lr_audio, wd_audio), video=(lr_video, wd_video),
                          other=(lr_other, wd_other))
        self.unimodal_tasks, self.update_labels, self.weighting = unimodal_tasks, update_labels, weighting
        self.ulgm: ULGM | None = None      # set by SelfMM.fit before training
        self.ulabel_history: dict[int, dict[str, np.ndarray]] = {}

    def encode_text(self, batch: dict) -> torch.Tensor:
        if self.text_model is None:
            if "text_vec" not in batch:
                raise MMSADataError("a frozen-text Self-MM reads cached sentence vectors: the batch has no 'text_vec' "
                                    "(build it with MultimodalDataset(..., text_vectors=...))")
            return batch["text_vec"]
        tokens = batch["text_bert"]
        mask = tokens[:, 1]
        hidden = self.text_model(input_ids=tokens[:, 0], attention_mask=mask, token_type_ids=tokens[:, 2]).last_hidden_state
        if self.pooling == "cls":
            return hidden[:, 0]
        m = mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    def forward(self, batch: dict) -> dict:
        text = self.encode_text(batch)
        audio = self.audio_model(batch["audio"], batch["audio_lengths"])
        video = self.video_model(batch["vision"], batch["vision_lengths"])
        out = {}
        for key, head, x in (("M", self.fusion_head, torch.cat([text, audio, video], dim=-1)),
                             ("T", self.text_head, text), ("A", self.audio_head, audio), ("V", self.video_head, video)):
            out[key], out[f"Feature_{key.lower() if key != 'M' else 'f'}"] = head(x)
        return out

    # training ------------------------------------------------------------------------
    def unimodal_weight(self, index, mode: str) -> torch.Tensor:
        if self.weighting == "none":
            return torch.ones(len(index), device=self.ulgm.y_m.device)
        return self.ulgm.loss_weights(index, mode)

    def training_step(self, batch: dict, epoch: int):
        out = self(batch)
        index = batch["index"]
        y_m = batch["labels"]["M"].view(-1)
        losses = {"M": torch.mean(torch.abs(out["M"] - y_m))}
        if self.unimodal_tasks:
            for mode in UNIMODAL:
                key = LETTER[mode]
                target = self.ulgm.labels[mode][index.to(self.ulgm.y_m.device)].to(out[key].device)
                w = self.unimodal_weight(index, mode).to(out[key].device)
                losses[key] = torch.mean(w * torch.abs(out[key] - target))
        out["loss"] = sum(losses.values())
        out["task_losses"] = {k: float(v.detach()) for k, v in losses.items()}
        return out

    def validation_step(self, batch: dict) -> dict:
        """Multimodal L1 only; the banks are not touched."""
        out = self(batch)
        return {"loss": torch.mean(torch.abs(out["M"] - batch["labels"]["M"].view(-1))), "pred": out["M"]}

    def on_epoch_start(self, epoch: int) -> None:
        device = next(self.parameters()).device
        if self.ulgm is not None and self.ulgm.y_m.device != device:
            self.ulgm.to(device)

    def on_train_batch_end(self, batch: dict, outputs: dict, epoch: int) -> None:
        if not self.unimodal_tasks:
            return
        features = {m: outputs[f"Feature_{LETTER[m].lower() if m != 'fusion' else 'f'}"] for m in MODES}
        self.ulgm.update(batch["index"], features, epoch, update_labels=self.update_labels)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        if self.ulgm is not None:
            self.ulabel_history[epoch] = self.ulgm.snapshot()

    def configure_optimizers(self, cfg: TrainConfig) -> torch.optim.Optimizer:
        """Adam with MMSA's five groups: encoder (decay), encoder bias/LayerNorm (no decay), audio, vision, the rest."""
        no_decay = ("bias", "LayerNorm.bias", "LayerNorm.weight")
        bert = list(self.text_model.named_parameters()) if self.text_model is not None else []
        taken = {id(p) for _, p in bert} | {id(p) for p in self.audio_model.parameters()} | \
            {id(p) for p in self.video_model.parameters()}
        (lr_b, wd_b), (lr_a, wd_a), (lr_v, wd_v), (lr_o, wd_o) = (self.rates[k] for k in ("bert", "audio", "video", "other"))
        groups = [
            {"params": [p for n, p in bert if not any(nd in n for nd in no_decay)], "lr": lr_b, "weight_decay": wd_b},
            {"params": [p for n, p in bert if any(nd in n for nd in no_decay)], "lr": lr_b, "weight_decay": 0.0},
            {"params": list(self.audio_model.parameters()), "lr": lr_a, "weight_decay": wd_a},
            {"params": list(self.video_model.parameters()), "lr": lr_v, "weight_decay": wd_v},
            {"params": [p for p in self.parameters() if id(p) not in taken], "lr": lr_o, "weight_decay": wd_o},
        ]
        groups = [g for g in groups if any(p.requires_grad for p in g["params"])]
        return torch.optim.Adam(groups)


# --- the registry model ----------------------------------------------------------------
NET_KEYS = ("pooling", "a_lstm_hidden", "v_lstm_hidden", "a_lstm_dropout", "v_lstm_dropout", "audio_out", "video_out",
            "post_fusion_dim", "post_text_dim", "post_audio_dim", "post_video_dim", "post_fusion_dropout",
            "post_text_dropout", "post_audio_dropout", "post_video_dropout", "lr_bert", "lr_audio", "lr_video",
            "lr_other", "wd_bert", "wd_audio", "wd_video", "wd_other", "unimodal_tasks", "update_labels", "weighting")

#: MMSA's MOSI settings (config_regression.json, self_mm), with the book's encoder and an epoch ceiling.
DEFAULTS = dict(encoder=DEFAULT_ENCODER, finetune=False, pooling="cls", max_tokens=50, H=None, exclude_zero=True,
                batch_size=16, update_epochs=4, epochs=30, patience=8, a_lstm_hidden=16, v_lstm_hidden=32,
                a_lstm_dropout=0.0, v_lstm_dropout=0.0, audio_out=16, video_out=32, post_fusion_dim=128,
                post_text_dim=32, post_audio_dim=16, post_video_dim=32, post_fusion_dropout=0.0,
                post_text_dropout=0.1, post_audio_dropout=0.1, post_video_dropout=0.0, lr_bert=5e-5, lr_audio=5e-3,
                lr_video=5e-3, lr_other=1e-3, wd_bert=1e-3, wd_audio=1e-3, wd_video=1e-3, wd_other=1e-3,
                unimodal_tasks=True, update_labels=True, weighting="tanh", progress=True, device=None)


class SelfMM:
    """``self_mm``: Self-MM trained with the book's Trainer; a :class:`~mmsa_helpers.models.base.SentimentModel`.

    ``H=None`` takes the corpus's label range (3 for MOSI-style data, 1 for SIMS). The true
    unimodal labels of a corpus (SIMS, the embedded corpus) are never read for training; the
    u-label table (:meth:`ulabel_frame`) adds them beside the generated ones for comparison.
    Ablations are settings: ``update_labels=False, weighting="none"`` (u-labels frozen at y_m:
    plain multi-task learning), ``weighting="none"``, ``unimodal_tasks=False`` (no unimodal
    tasks: the fusion head on the same backbone), ``finetune=True`` (fine-tune the encoder).
    """

    def __init__(self, **settings):
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise SettingError(f"self_mm has no setting(s) {sorted(unknown)}; its settings are {sorted(DEFAULTS)}")
        self.settings = {**DEFAULTS, **settings}
        s = self.settings
        if not s["update_labels"] and s["weighting"] == "tanh" and s["unimodal_tasks"]:
            raise ConfigError("update_labels=False keeps every u-label equal to y_m, so tanh(|y_s - y_m|) weighs every "
                             "unimodal loss 0: use weighting='none' for plain multi-task learning")
        self.train_cfg = TrainConfig(epochs=s["epochs"], patience=s["patience"], grad_clip=None,
                                     accumulate=s["update_epochs"], accumulate_reduction="sum",
                                     accumulate_remainder="drop", monitor="loss", mode="min",
                                     progress=s["progress"], device=s["device"])
        self.net: SelfMMNet | None = None
        self.history: TrainHistory | None = None
        self.scalers = None
        self._vectors: dict[str, tuple[Corpus, np.ndarray]] = {}

    # data ------------------------------------------------------------------------------
    def check(self, corpus: Corpus) -> None:
        missing = [m for m in ("raw_text", "audio", "vision") if not corpus.has(m)]
        if missing:
            raise MMSADataError(f"self_mm reads transcripts, audio and vision frames, but {corpus.name!r} has no "
                                f"{missing} (it has {sorted(corpus['train'])}); real datasets need their MMSA feature "
                                "pickle (Processed/unaligned_50.pkl)")

    def text_vectors(self, corpus: Corpus, split: str) -> np.ndarray:
        from .pretrained_text import encode_texts

        # one entry per split, holding the corpus itself: an id(corpus) key could be reused by a new
        # (e.g. perturbed) corpus once the old one is freed, and would serve it the wrong vectors
        held = self._vectors.get(split)
        if held is None or held[0] is not corpus:
            held = self._vectors[split] = (corpus, encode_texts(
                list(corpus[split]["raw_text"]), self.settings["encoder"], self.settings["pooling"],
                self.settings["max_tokens"]))
        return held[1]

    def dataset(self, corpus: Corpus, split: str) -> MultimodalDataset:
        s = self.settings
        extra = (dict(text_tokens=s["encoder"], max_tokens=s["max_tokens"]) if s["finetune"]
                 else dict(text_vectors=self.text_vectors(corpus, split)))
        return MultimodalDataset(corpus, split, modalities=("audio", "vision"), labels=("M",), scalers=self.scalers,
                                 zero_is_missing=True, **extra)

    def loader(self, corpus: Corpus, split: str, shuffle: bool = False, seed: int = 0):
        return make_loader(self.dataset(corpus, split), self.settings["batch_size"], shuffle=shuffle, seed=seed)

    # training ------------------------------------------------------------------------------
    def fit(self, corpus: Corpus, seed: int = 0) -> "SelfMM":
        from ..training import dist_info
        from .multimodal import metric_fn_for

        self.check(corpus)
        if dist_info()[1] > 1:
            raise MMSADataError("self_mm keeps its label banks in one process; run it without torchrun")
        s = self.settings
        torch.manual_seed(seed)
        self.scalers = fit_scalers(corpus, ("audio", "vision"))
        train = self.dataset(corpus, "train")
        y_m = corpus.training_labels("train")
        self.H = float(s["H"] if s["H"] is not None else corpus.label_range)
        encoder = None
        if s["finetune"]:
            from .pretrained_text import _load

            _, encoder = _load(s["encoder"])
            text_dim = int(encoder.config.hidden_size)
        else:
            text_dim = int(train.text_vectors.shape[1])
        dims = {m: int(train.features[m].shape[2]) for m in ("audio", "vision")}
        self.net = SelfMMNet(dims, text_dim, encoder, **{k: s[k] for k in NET_KEYS})
        self.net.ulgm = ULGM(y_m, self.net.post_dims, H=self.H, exclude_zero=s["exclude_zero"])
        self.label_range = corpus.label_range
        self.train_ids = list(corpus["train"]["id"])
        self.history = Trainer(self.train_cfg).fit(
            self.net, make_loader(train, s["batch_size"], shuffle=True, seed=seed), self.loader(corpus, "valid"),
            metric_fn=metric_fn_for(corpus))
        return self

    # results --------------------------------------------------------------------------------
    def outputs(self, corpus: Corpus, split: str) -> dict[str, np.ndarray]:
        """Every output of the network (M, T, A, V predictions and the four features) over a split."""
        self._need_fit()
        return collect_outputs(self.net, self.loader(corpus, split))

    def predict(self, corpus: Corpus, split: str) -> np.ndarray:
        self._need_fit()
        return np.clip(predict(self.net, self.loader(corpus, split)), -self.label_range, self.label_range)

    @property
    def ulabel_history(self) -> dict[int, dict[str, np.ndarray]]:
        """u-labels of the training split after each epoch: ``{epoch: {"M": y_m, "T": u_t, ...}}``."""
        self._need_fit()
        return self.net.ulabel_history

    def ulabel_frame(self, corpus: Corpus | None = None):
        """One row per training utterance and epoch: epoch, id, y_m, u_t, u_a, u_v (and the true y_t, y_a, y_v
        of ``corpus`` where it has them, for comparison only)."""
        import pandas as pd

        self._need_fit()
        truth = {}
        if corpus is not None:
            ids = list(corpus["train"]["id"])
            if ids != self.train_ids:
                raise MMSADataError("ulabel_frame: the corpus's training ids are not the ones this model was trained on")
            truth = {f"y_{k.lower()}": corpus.labels("train", k) for k in "TAV"
                     if UNIMODAL_LABEL_KEY[k] in corpus["train"]}
        frames = []
        for epoch, labels in sorted(self.net.ulabel_history.items()):
            frames.append(pd.DataFrame({"epoch": epoch, "id": self.train_ids, "y_m": labels["M"], "u_t": labels["T"],
                                        "u_a": labels["A"], "u_v": labels["V"], **truth}))
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    @property
    def n_parameters(self) -> int:
        self._need_fit()
        return count_parameters(self.net)

    def _need_fit(self) -> None:
        if self.net is None:
            raise RuntimeError("call fit() before using the model")


def agreement(frame, truth: str = "y_t", ulabel: str = "u_t"):
    """Per epoch: Pearson correlation and MAE of a u-label column with a true unimodal label column,
    beside those of y_m (the starting point u = y_m)."""
    import pandas as pd

    rows = []
    for epoch, g in frame.groupby("epoch"):
        rows.append({"epoch": epoch, "corr_u": float(np.corrcoef(g[ulabel], g[truth])[0, 1]),
                     "corr_y_m": float(np.corrcoef(g["y_m"], g[truth])[0, 1]),
                     "mae_u": float(np.mean(np.abs(g[ulabel] - g[truth]))),
                     "mae_y_m": float(np.mean(np.abs(g["y_m"] - g[truth])))})
    return pd.DataFrame(rows).set_index("epoch")


register("self_mm", SelfMM, needs=("raw_text", "audio", "vision"), family="self_mm",
         description="Self-MM: multimodal + three unimodal tasks with labels generated by ULGM (frozen encoder)",
         defaults=DEFAULTS)
