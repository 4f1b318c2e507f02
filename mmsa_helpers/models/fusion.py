"""Fusion networks (chapters 9-11): early and late fusion, tensor and low-rank
fusion, attention over modalities. MulT lives in :mod:`mmsa_helpers.models.mult`.

Every network is a :class:`mmsa_helpers.training.Module`: ``forward(batch)`` reads
the book's batch format (``text``/``audio``/``vision`` frames with lengths and
masks, see :mod:`mmsa_helpers.torch_data`) and returns a dict whose ``"M"`` is
the sentiment prediction, plus named intermediate outputs (unimodal features,
attention weights) that the chapters plot. They follow MMSA's implementations
(``models/singleTask/*.py``); each place where the book's version differs is
listed in the class docstring and in the chapter.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..training import Module

MODALITIES = ("text", "audio", "vision")


# --- building blocks ---------------------------------------------------------
def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the real steps of ``x`` (B, L, D); an empty sequence gives
    zeros."""
    m = mask.unsqueeze(-1).to(x.dtype)
    return (x * m).sum(1) / m.sum(1).clamp(min=1.0)


def lstm_last_state(
    rnn: nn.LSTM, x: torch.Tensor, lengths: torch.Tensor
) -> torch.Tensor:
    """Last LSTM layer's hidden state after the last *real* step (packed
    sequence)."""
    packed = nn.utils.rnn.pack_padded_sequence(
        x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
    )
    _, (h, _) = rnn(packed)
    return h[-1]


class SubNet(nn.Module):
    """MMSA's (and TFN's) audio/vision subnetwork:
    BatchNorm -> dropout -> three Linear+ReLU layers."""

    def __init__(self, in_dim: int, hidden: int, dropout: float):
        super().__init__()
        self.norm = nn.BatchNorm1d(in_dim)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if (
            self.training and len(x) == 1
        ):  # batch statistics need two samples: use the running ones
            x = F.batch_norm(
                x,
                self.norm.running_mean,
                self.norm.running_var,
                self.norm.weight,
                self.norm.bias,
            )
        else:
            x = self.norm(x)
        return self.layers(self.drop(x))


class TextSubNet(nn.Module):
    """MMSA's text subnetwork: an LSTM over the word features,
    its final state -> dropout -> Linear."""

    def __init__(self, in_dim: int, hidden: int, out: int, dropout: float):
        super().__init__()
        self.rnn = nn.LSTM(in_dim, hidden, batch_first=True)
        self.drop = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, out)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.linear(self.drop(lstm_last_state(self.rnn, x, lengths)))


class UnimodalEncoders(nn.Module):
    """One vector per modality and utterance: the text LSTM, and SubNets on the
    audio and vision frames averaged over time (MMSA's ``need_normalized``).

    Differs from MMSA: the averages cover the real frames only (MMSA averages
    over the padding too), and the text LSTM's state is taken after the last real
    word (packed sequence; MMSA's runs on through the padding).
    """

    def __init__(
        self,
        dims: dict[str, int],
        text_hidden: int,
        text_out: int,
        audio_hidden: int,
        vision_hidden: int,
        dropouts: tuple[float, float, float],
    ):
        super().__init__()
        self.text = TextSubNet(dims["text"], text_hidden, text_out, dropouts[0])
        self.audio = SubNet(dims["audio"], audio_hidden, dropouts[1])
        self.vision = SubNet(dims["vision"], vision_hidden, dropouts[2])
        self.out_dims = {
            "text": text_out,
            "audio": audio_hidden,
            "vision": vision_hidden,
        }

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        return {
            "text": self.text(batch["text"], batch["text_lengths"]),
            "audio": self.audio(
                masked_mean(batch["audio"], batch["audio_mask"])
            ),
            "vision": self.vision(
                masked_mean(batch["vision"], batch["vision_mask"])
            ),
        }


def _encoders(dims, text_hidden, text_out, audio_hidden, vision_hidden, dropout):
    return UnimodalEncoders(
        dims, text_hidden, text_out, audio_hidden, vision_hidden, (dropout,) * 3
    )


# --- chapter 9: early and late fusion ---------------------------------------
def _steps(x: torch.Tensor, steps: int) -> torch.Tensor:
    """``x`` (B, L, D) cut or zero-padded to ``steps`` steps (a missing stream
    is shorter)."""
    if x.shape[1] >= steps:
        return x[:, :steps]
    return F.pad(x, (0, 0, 0, steps - x.shape[1]))


class EFLSTM(Module):
    """Early fusion (EF-LSTM): concatenate the three modalities' features at every
    (word-aligned) step and read the sequence with one LSTM.

    Differs from MMSA's ``EF_LSTM``: no BatchNorm over sequence positions (the book
    standardises features with training-set statistics instead), and the LSTM's
    state is taken after the last real word (packed sequence), not after the
    padding.
    """

    def __init__(
        self,
        dims: dict[str, int],
        hidden: int = 32,
        layers: int = 1,
        dropout: float = 0.3,
        **_,
    ):
        super().__init__()
        self.lstm = nn.LSTM(
            sum(dims[m] for m in MODALITIES),
            hidden,
            num_layers=layers,
            batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, batch: dict) -> dict:
        steps = batch["text"].shape[1]
        x = torch.cat([_steps(batch[m], steps) for m in MODALITIES], dim=-1)
        h = self.drop(lstm_last_state(self.lstm, x, batch["text_lengths"]))
        h = self.drop(F.relu(self.linear(h)))
        return {"M": self.out(h).squeeze(-1), "Feature_f": h}


class LFDNN(Module):
    """Late fusion (LF-DNN, as MMSA implements it): one subnetwork per modality,
    their outputs concatenated and read by a small DNN."""

    def __init__(
        self,
        dims: dict[str, int],
        text_hidden: int = 32,
        text_out: int = 16,
        audio_hidden: int = 8,
        vision_hidden: int = 8,
        post_fusion_dim: int = 32,
        dropout: float = 0.2,
        **_,
    ):
        super().__init__()
        self.encoders = _encoders(
            dims, text_hidden, text_out, audio_hidden, vision_hidden, dropout
        )
        fused = sum(self.encoders.out_dims.values())
        self.post = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(fused, post_fusion_dim),
            nn.ReLU(),
            nn.Linear(post_fusion_dim, post_fusion_dim),
            nn.ReLU(),
            nn.Linear(post_fusion_dim, 1),
        )

    def forward(self, batch: dict) -> dict:
        h = self.encoders(batch)
        fused = torch.cat([h["text"], h["audio"], h["vision"]], dim=-1)
        return {
            "M": self.post(fused).squeeze(-1),
            **{f"Feature_{m[0]}": v for m, v in h.items()},
            "Feature_f": fused,
        }


class LateAverage(Module):
    """Decision-level fusion: each modality predicts a score on its own; the
    prediction is a weighted average of the three scores with learned weights
    (a softmax, so they sum to 1).

    Each unimodal head is also trained against ``y_m`` (the loss is the fused L1
    plus the mean of the three unimodal L1s), so every score is a usable prediction.
    """

    def __init__(
        self,
        dims: dict[str, int],
        text_hidden: int = 32,
        text_out: int = 16,
        audio_hidden: int = 8,
        vision_hidden: int = 8,
        dropout: float = 0.2,
        **_,
    ):
        super().__init__()
        self.encoders = _encoders(
            dims, text_hidden, text_out, audio_hidden, vision_hidden, dropout
        )
        self.heads = nn.ModuleDict(
            {m: nn.Linear(d, 1) for m, d in self.encoders.out_dims.items()}
        )
        self.logits = nn.Parameter(torch.zeros(3))

    @property
    def weights(self) -> torch.Tensor:
        """The weight of each modality's score (text, audio, vision)."""
        return torch.softmax(self.logits, dim=0)

    def forward(self, batch: dict) -> dict:
        h = self.encoders(batch)
        scores = torch.stack(
            [self.heads[m](h[m]).squeeze(-1) for m in MODALITIES], dim=1
        )  # (B, 3)
        return {"M": scores @ self.weights, "scores": scores}

    def loss(self, out, batch: dict) -> torch.Tensor:
        y = batch["labels"]["M"]
        return torch.mean(torch.abs(out["M"] - y)) + torch.mean(
            torch.abs(out["scores"] - y[:, None])
        )

    def validation_step(self, batch: dict) -> dict:
        out = self(batch)  # select epochs by the fused prediction's L1 alone
        return {
            "loss": torch.mean(torch.abs(out["M"] - batch["labels"]["M"])),
            "pred": out["M"],
        }


# --- chapter 10: tensor and low-rank fusion ------------------------------------
def append_one(h: torch.Tensor) -> torch.Tensor:
    """``[1, h]``: the constant that keeps the unimodal and bimodal terms."""
    return torch.cat([torch.ones_like(h[:, :1]), h], dim=1)


def tensor_fusion(
    h_t: torch.Tensor, h_a: torch.Tensor, h_v: torch.Tensor
) -> torch.Tensor:
    """TFN's fusion: the outer product of ``[1, h_t]``, ``[1, h_a]``, ``[1, h_v]``,
    flattened:
    shape (B, (dt + 1)(da + 1)(dv + 1))."""
    z = torch.einsum(
        "bi,bj,bk->bijk", append_one(h_t), append_one(h_a), append_one(h_v)
    )
    return z.flatten(1)


class LowRankFusion(nn.Module):
    """LMF's fusion layer: a linear map of the outer-product tensor whose weight
    is a sum of ``rank`` rank-one tensors, computed without building the tensor:

        out = sum_r w_r (W_t^r [1, h_t]) * (W_a^r [1, h_a]) * (W_v^r [1, h_v]) + b
    """

    def __init__(self, dims: tuple[int, int, int], out: int, rank: int):
        super().__init__()
        self.rank = rank
        self.factors = nn.ParameterList(
            nn.Parameter(torch.empty(rank, d + 1, out)) for d in dims
        )
        self.fusion_weights = nn.Parameter(torch.empty(1, rank))
        self.fusion_bias = nn.Parameter(torch.zeros(1, out))
        for f in self.factors:
            nn.init.xavier_normal_(f)
        nn.init.xavier_normal_(self.fusion_weights)

    def forward(self, *hs: torch.Tensor) -> torch.Tensor:
        prod = None
        for h, factor in zip(hs, self.factors):
            z = torch.matmul(append_one(h), factor)  # (rank, B, out)
            prod = z if prod is None else prod * z
        return (
            torch.matmul(self.fusion_weights, prod.permute(1, 0, 2)).squeeze(1)
            + self.fusion_bias
        )


def low_rank_from_tensor_weight(
    weight: torch.Tensor, bias: torch.Tensor, dims: tuple[int, int, int]
) -> LowRankFusion:
    """An exact :class:`LowRankFusion` for a linear layer on TFN's tensor.

    ``weight`` has shape (out, (dt+1)(da+1)(dv+1)). The result has rank
    (dt+1)(da+1): one rank-one term per (i, j) slice of the weight.
    """
    out = weight.shape[0]
    dt, da, dv = (d + 1 for d in dims)
    w = weight.view(out, dt, da, dv)
    rank = dt * da
    lmf = LowRankFusion(dims, out, rank)
    with torch.no_grad():
        ft, fa, fv = (torch.zeros_like(f) for f in lmf.factors)
        for r in range(rank):
            i, j = divmod(r, da)
            ft[r, i, :] = 1.0
            fa[r, j, :] = 1.0
            fv[r] = w[:, i, j, :].T  # (dv, out)
        for f, new in zip(lmf.factors, (ft, fa, fv)):
            f.copy_(new)
        lmf.fusion_weights.fill_(1.0)
        lmf.fusion_bias.copy_(bias.view(1, out))
    return lmf


class TFN(Module):
    """Tensor Fusion Network (Zadeh et al. 2017), as in MMSA: unimodal subnetworks,
    the three-way outer product with an appended 1, a post-fusion DNN, and an
    output squashed to the label range by a scaled sigmoid.

    Differs from MMSA only in its encoders (:class:`UnimodalEncoders`) and sizes:
    MMSA's MOSI setting is ``text_hidden=128, audio_hidden=32, vision_hidden=128,
    text_out=32, post_fusion_dim=64``.
    """

    def __init__(
        self,
        dims: dict[str, int],
        label_range: float = 3.0,
        text_hidden: int = 32,
        text_out: int = 16,
        audio_hidden: int = 8,
        vision_hidden: int = 8,
        post_fusion_dim: int = 32,
        dropout: float = 0.2,
        post_fusion_dropout: float = 0.3,
        **_,
    ):
        super().__init__()
        self.label_range = float(label_range)
        self.encoders = _encoders(
            dims, text_hidden, text_out, audio_hidden, vision_hidden, dropout
        )
        size = (text_out + 1) * (audio_hidden + 1) * (vision_hidden + 1)
        self.post = nn.Sequential(
            nn.Dropout(post_fusion_dropout),
            nn.Linear(size, post_fusion_dim),
            nn.ReLU(),
            nn.Linear(post_fusion_dim, post_fusion_dim),
            nn.ReLU(),
            nn.Linear(post_fusion_dim, 1),
        )

    def forward(self, batch: dict) -> dict:
        h = self.encoders(batch)
        z = tensor_fusion(h["text"], h["audio"], h["vision"])
        y = (
            torch.sigmoid(self.post(z).squeeze(-1)) * 2 * self.label_range
            - self.label_range
        )
        return {
            "M": y,
            "Feature_f": z,
            **{f"Feature_{m[0]}": v for m, v in h.items()},
        }


class LMF(Module):
    """Low-rank Multimodal Fusion (Liu et al. 2018), as in MMSA: the same
    subnetworks as TFN, then :class:`LowRankFusion` straight to the prediction.

    Differs from MMSA only in its encoders (:class:`UnimodalEncoders`) and sizes
    (MMSA's MOSI setting: ``text_hidden=128, audio_hidden=16, vision_hidden=128,
    rank=3``; MMSA sets the text output to half the text hidden size).
    """

    def __init__(
        self,
        dims: dict[str, int],
        text_hidden: int = 32,
        text_out: int = 16,
        audio_hidden: int = 8,
        vision_hidden: int = 8,
        rank: int = 4,
        dropout: float = 0.2,
        factor_lr: float = 1e-3,
        **_,
    ):
        super().__init__()
        self.factor_lr = factor_lr
        self.encoders = _encoders(
            dims, text_hidden, text_out, audio_hidden, vision_hidden, dropout
        )
        self.fusion = LowRankFusion(
            (text_out, audio_hidden, vision_hidden), 1, rank
        )

    def forward(self, batch: dict) -> dict:
        h = self.encoders(batch)
        return {
            "M": self.fusion(h["text"], h["audio"], h["vision"]).squeeze(-1),
            **{f"Feature_{m[0]}": v for m, v in h.items()},
        }

    def configure_optimizers(self, cfg):
        """As MMSA's LMF: the fusion factors get their own rate (``factor_lr``)."""
        factor_ids = {id(p) for p in self.fusion.parameters()}
        rest = [p for p in self.parameters() if id(p) not in factor_ids]
        return torch.optim.Adam(
            [
                {"params": list(self.fusion.parameters()), "lr": self.factor_lr},
                {"params": rest, "lr": cfg.lr},
            ],
            weight_decay=cfg.weight_decay,
        )


# --- chapter 11: attention over modalities --------------------------------------
class ModalityAttention(Module):
    """Attention over modalities: each modality becomes one vector in a shared
    space, a small scorer gives each vector a score, a softmax over the *present*
    modalities turns the scores
    into per-utterance weights, and the weighted sum is read by a linear head.

    A modality with no frames (missing audio or video) gets weight 0.
    """

    def __init__(
        self,
        dims: dict[str, int],
        text_hidden: int = 32,
        text_out: int = 16,
        audio_hidden: int = 16,
        vision_hidden: int = 16,
        shared: int = 16,
        dropout: float = 0.2,
        **_,
    ):
        super().__init__()
        self.encoders = _encoders(
            dims, text_hidden, text_out, audio_hidden, vision_hidden, dropout
        )
        self.project = nn.ModuleDict(
            {m: nn.Linear(d, shared) for m, d in self.encoders.out_dims.items()}
        )
        self.score = nn.Sequential(
            nn.Linear(shared, shared), nn.Tanh(), nn.Linear(shared, 1, bias=False)
        )
        self.head = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(shared, shared),
            nn.ReLU(),
            nn.Linear(shared, 1),
        )

    def forward(self, batch: dict) -> dict:
        h = self.encoders(batch)
        z = torch.stack(
            [torch.tanh(self.project[m](h[m])) for m in MODALITIES], dim=1
        )  # (B, 3, shared)
        present = torch.stack(
            [batch[f"{m}_lengths"] > 0 for m in MODALITIES], dim=1
        )
        present[:, 0] = True  # text is always there
        scores = self.score(z).squeeze(-1).masked_fill(~present, float("-inf"))
        weights = torch.softmax(scores, dim=1)  # (B, 3), rows sum to 1
        fused = torch.bmm(weights.unsqueeze(1), z).squeeze(1)
        return {
            "M": self.head(fused).squeeze(-1),
            "weights": weights,
            "Feature_f": fused,
        }
