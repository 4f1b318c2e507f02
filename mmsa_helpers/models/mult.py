"""The Multimodal Transformer, MulT (Tsai et al. 2019), on unaligned sequences
(chapter 11).

Each modality's frames are projected to a common width ``d`` by a 1-D convolution
over time and get sinusoidal positions. For every ordered pair (target <- source)
a *cross-modal transformer* lets the target's steps attend to the source's steps:
queries from the target, keys and values from the source. Nothing requires the
two sequences to have the same length or to be aligned in time, which is the
point of MulT. Each target then concatenates its two cross-modal streams, runs a
self-attention transformer over them, and keeps its last real step; the three
vectors are concatenated and read by a residual two-layer head.

Differences from MMSA's ``MULT`` (which follows the authors' code): attention
uses *padding* masks (MMSA's ``attn_mask`` is a causal "future" mask and padding
is attended to), the kept step is the last real one, not the last padded one,
and sizes are small by default (``d=16``, 1 cross-modal layer, a kernel-3
convolution projection, little dropout; MMSA's MOSI setting is ``d=50``, 10
heads, 4 levels: ``--set d=50 heads=10 layers=4``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from ..training import Module
from .fusion import MODALITIES

PAIRS = tuple(
    (t, s) for t in MODALITIES for s in MODALITIES if s != t
)  # (target, source)


def sinusoidal_positions(length: int, dim: int, device=None) -> torch.Tensor:
    """(length, dim) sine/cosine position codes of the original Transformer."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(
        torch.arange(0, dim, 2, device=device, dtype=torch.float32)
        * (-math.log(10000.0) / dim)
    )
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)[:, : dim // 2]
    return pe


def last_real_step(h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``h[b, lengths[b] - 1]`` for every b (step 0 for an empty sequence)."""
    idx = (lengths.clamp(min=1) - 1).view(-1, 1, 1).expand(-1, 1, h.shape[2])
    return h.gather(1, idx).squeeze(1)


class CrossModalLayer(nn.Module):
    """One pre-norm transformer layer whose queries come from one sequence and
    whose keys and values come from another (the same one for self-attention)."""

    def __init__(
        self,
        dim: int,
        heads: int,
        attn_dropout: float = 0.1,
        relu_dropout: float = 0.1,
        res_dropout: float = 0.1,
    ):
        super().__init__()
        self.norm_q, self.norm_kv, self.norm_ff = (
            nn.LayerNorm(dim),
            nn.LayerNorm(dim),
            nn.LayerNorm(dim),
        )
        self.attention = nn.MultiheadAttention(
            dim, heads, dropout=attn_dropout, batch_first=True
        )
        self.ff = nn.Sequential(
            nn.Linear(dim, 4 * dim),
            nn.ReLU(),
            nn.Dropout(relu_dropout),
            nn.Linear(4 * dim, dim),
        )
        self.res_dropout = nn.Dropout(res_dropout)

    def forward(
        self,
        x: torch.Tensor,
        x_mask: torch.Tensor,
        source: torch.Tensor,
        source_mask: torch.Tensor,
    ):
        kv = self.norm_kv(source)
        h, weights = self.attention(
            self.norm_q(x), kv, kv, key_padding_mask=~source_mask, need_weights=True
        )
        x = x + self.res_dropout(h)
        x = x + self.res_dropout(self.ff(self.norm_ff(x)))
        # padded steps stay zero
        return x * x_mask.unsqueeze(-1).to(x.dtype), weights


class CrossModalTransformer(nn.Module):
    """``layers`` cross-modal layers (target <- source); keeps the last layer's
    attention map."""

    def __init__(self, dim: int, heads: int, layers: int, **dropouts):
        super().__init__()
        self.layers = nn.ModuleList(
            CrossModalLayer(dim, heads, **dropouts) for _ in range(layers)
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, x, x_mask, source=None, source_mask=None):
        weights = None
        for layer in self.layers:
            src, src_mask = (x, x_mask) if source is None else (source, source_mask)
            x, weights = layer(x, x_mask, src, src_mask)
        return self.norm(x), weights


class MulT(Module):
    """MulT: cross-modal transformers for all six (target <- source) pairs on
    unaligned sequences."""

    def __init__(
        self,
        dims: dict[str, int],
        d: int = 16,
        heads: int = 4,
        layers: int = 1,
        memory_layers: int = 1,
        kernel: int = 3,
        attn_dropout: float = 0.1,
        relu_dropout: float = 0.1,
        res_dropout: float = 0.1,
        embed_dropout: float = 0.1,
        text_dropout: float = 0.0,
        output_dropout: float = 0.2,
        **_,
    ):
        super().__init__()
        if d % heads:
            raise ConfigError(f"d={d} must be divisible by heads={heads}")
        if (2 * d) % heads:
            raise ConfigError(f"2*d={2 * d} must be divisible by heads={heads}")
        drop = dict(
            attn_dropout=attn_dropout,
            relu_dropout=relu_dropout,
            res_dropout=res_dropout,
        )
        self.d, self.kernel = d, kernel
        self.proj = nn.ModuleDict(
            {
                m: nn.Conv1d(dims[m], d, kernel, padding=kernel // 2, bias=False)
                for m in MODALITIES
            }
        )
        self.cross = nn.ModuleDict(
            {
                f"{t}_{s}": CrossModalTransformer(d, heads, layers, **drop)
                for t, s in PAIRS
            }
        )
        self.memory = nn.ModuleDict(
            {
                m: CrossModalTransformer(2 * d, heads, memory_layers, **drop)
                for m in MODALITIES
            }
        )
        combined = 6 * d
        self.proj1, self.proj2 = (
            nn.Linear(combined, combined),
            nn.Linear(combined, combined),
        )
        self.out = nn.Linear(combined, 1)
        self.embed_dropout, self.text_dropout, self.output_dropout = (
            embed_dropout,
            text_dropout,
            output_dropout,
        )
        self.last_attention: dict[tuple[str, str], torch.Tensor] = {}

    def embed(self, batch: dict, m: str) -> tuple[torch.Tensor, torch.Tensor]:
        x, mask = batch[m], batch[f"{m}_mask"].clone()
        mask[:, 0] = True  # an empty sequence keeps one (zero) step
        if m == "text":
            x = F.dropout(x, self.text_dropout, self.training)
        h = self.proj[m]((x * mask.unsqueeze(-1)).transpose(1, 2))[
            :, :, : x.shape[1]
        ].transpose(1, 2)
        h = math.sqrt(self.d) * h + sinusoidal_positions(
            h.shape[1], self.d, h.device
        )
        h = F.dropout(h, self.embed_dropout, self.training)
        return h * mask.unsqueeze(-1).to(h.dtype), mask

    def forward(self, batch: dict) -> dict:
        seqs = {m: self.embed(batch, m) for m in MODALITIES}
        lengths = {m: batch[f"{m}_lengths"] for m in MODALITIES}
        finals, self.last_attention = {}, {}
        for t in MODALITIES:
            x, mask = seqs[t]
            streams = []
            for s in MODALITIES:
                if s == t:
                    continue
                h, w = self.cross[f"{t}_{s}"](x, mask, *seqs[s])
                streams.append(h)
                self.last_attention[(t, s)] = w.detach()
            h, _ = self.memory[t](torch.cat(streams, dim=-1), mask)
            finals[t] = last_real_step(h, lengths[t])
        fused = torch.cat([finals[m] for m in MODALITIES], dim=-1)
        h = (
            self.proj2(
                F.dropout(
                    F.relu(self.proj1(fused)),
                    self.output_dropout,
                    self.training,
                )
            )
            + fused
        )
        return {
            "M": self.out(h).squeeze(-1),
            "Feature_f": fused,
            **{f"Feature_{m[0]}": v for m, v in finals.items()},
        }
