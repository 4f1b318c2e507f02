"""One training loop for every neural model of the book (chapter 6 introduces it).

``fit_regressor`` trains a PyTorch module whose ``forward(batch)`` returns one
prediction per utterance. After each epoch it measures the validation loss and
keeps the weights of the best epoch (model selection by validation loss, as
MMSA does); it stops early when the validation loss has not improved for
``patience`` epochs. A tqdm bar shows progress.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import torch
from torch import nn


@dataclass
class TrainConfig:
    epochs: int = 20
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5           # epochs without validation improvement before stopping
    grad_clip: float | None = 1.0
    progress: bool = True       # show a tqdm bar
    device: str | None = None   # None: setup()'s choice (GPU if present)


@dataclass
class TrainHistory:
    """What happened during training: losses per epoch, the chosen epoch, time."""

    rows: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    seconds: float = 0.0

    @property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows).set_index("epoch") if self.rows else pd.DataFrame()


def default_device(device: str | None = None) -> torch.device:
    from .runtime import pick_device

    return torch.device(device or pick_device())


def to_device(batch, device: torch.device):
    """Move every tensor of a (nested) batch dict to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def batch_indices(n: int, batch_size: int, shuffle: bool, generator: torch.Generator):
    """Index tensors of successive mini-batches; a seeded generator gives the same order for the same seed."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start: start + batch_size]


def l1_loss(pred: torch.Tensor, batch: dict) -> torch.Tensor:
    """Mean absolute error against the multimodal label (MMSA's regression loss)."""
    return torch.mean(torch.abs(pred.view(-1) - batch["labels"]["M"].view(-1)))


def evaluate_loss(model: nn.Module, batches: Iterable, loss_fn: Callable, device: torch.device) -> float:
    model.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for batch in batches:
            batch = to_device(batch, device)
            size = len(batch["labels"]["M"])
            total += float(loss_fn(model(batch), batch)) * size
            n += size
    return total / max(n, 1)


def predict(model: nn.Module, batches: Iterable, device: torch.device | None = None) -> np.ndarray:
    """Predictions of ``model`` over ``batches``, in order, as float32."""
    device = device or next(model.parameters()).device
    model.eval()
    out = []
    with torch.no_grad():
        for batch in batches:
            out.append(model(to_device(batch, device)).view(-1).float().cpu().numpy())
    return np.concatenate(out).astype(np.float32)


def fit_regressor(model: nn.Module, train_batches: Iterable, valid_batches: Iterable, cfg: TrainConfig,
                  loss_fn: Callable = l1_loss, optimizer: torch.optim.Optimizer | None = None) -> TrainHistory:
    """Train ``model`` and leave it holding the weights of the epoch with the lowest validation loss."""
    from tqdm.auto import tqdm

    device = default_device(cfg.device)
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    history = TrainHistory()
    best, best_state, waited = float("inf"), None, 0
    start = time.perf_counter()
    bar = tqdm(range(1, cfg.epochs + 1), desc=type(model).__name__, disable=not cfg.progress, leave=False)
    for epoch in bar:
        model.train()
        total, n = 0.0, 0
        for batch in train_batches:
            batch = to_device(batch, device)
            optimizer.zero_grad()
            loss = loss_fn(model(batch), batch)
            loss.backward()
            if cfg.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            size = len(batch["labels"]["M"])
            total += float(loss.detach()) * size
            n += size
        valid = evaluate_loss(model, valid_batches, loss_fn, device)
        history.rows.append({"epoch": epoch, "train_loss": total / max(n, 1), "valid_loss": valid})
        bar.set_postfix(train=f"{total / max(n, 1):.3f}", valid=f"{valid:.3f}")
        if valid < best - 1e-6:
            best, best_state, waited, history.best_epoch = valid, copy.deepcopy(model.state_dict()), 0, epoch
        else:
            waited += 1
            if waited >= cfg.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    history.seconds = time.perf_counter() - start
    return history
