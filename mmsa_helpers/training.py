"""The one training loop of the book: a ``Trainer`` that every network shares (chapter 6 introduces it,
chapter 9 opens it up).

The split follows d2l's Module/Trainer design (and PyTorch Lightning's hooks,
without the dependency). A network says *what* one step computes; the Trainer
says *how* training runs:

* a :class:`Module` defines ``forward(batch)`` (a tensor, or a dict with the
  prediction under ``"M"``), ``training_step(batch, epoch)`` (the loss, or a
  dict with ``"loss"`` and any named outputs), ``validation_step(batch)``,
  optional ``on_epoch_start`` / ``on_epoch_end`` / ``on_train_batch_end`` hooks
  and ``configure_optimizers(cfg)`` (several parameter groups, each with its own
  learning rate and weight decay). A plain ``nn.Module`` works too: the Trainer
  then uses ``loss_fn(model(batch), batch)``.
* the :class:`Trainer` owns epochs, gradient accumulation, gradient clipping
  (by norm or by value), an optional learning-rate scheduler, model selection by
  a named validation metric (lower or higher is better), restoring the best
  epoch, early stopping, the tqdm bar, the device, seeds, a per-epoch history
  table, and PyTorch's distributed engine (``torchrun``).

A batch is a dict (see :mod:`mmsa_helpers.torch_data`): features, masks,
``labels`` ({"M": ..., "T": ...}) and ``index``, each sample's row in its split.
"""
from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import torch
from torch import nn

from .errors import ConfigError, MMSADataError


class TrainingDivergedError(MMSADataError):
    """The loss became NaN or infinite: training stopped instead of returning untrained weights."""


@dataclass
class TrainConfig:
    """How the Trainer runs. Every field has the value the book's unimodal chapters used."""

    epochs: int = 20
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5           # epochs without validation improvement before stopping (None: never stop early)
    grad_clip: float | None = 1.0
    clip: str = "norm"          # "norm": clip the gradients' total norm; "value": clip each gradient entry
    accumulate: int = 1         # batches whose gradients add up before one optimiser step
    accumulate_reduction: str = "mean"  # "mean": the step equals one batch `accumulate` times bigger; "sum": MMSA's Self-MM
    accumulate_remainder: str = "step"  # a last, partial group of an epoch: "step" on it, or "drop" it (MMSA's Self-MM)
    monitor: str = "loss"       # validation quantity that selects the epoch: "loss" or a metric name ("Corr", "MAE")
    mode: str = "min"           # "min": lower is better; "max": higher is better
    min_delta: float = 1e-6     # smallest change that counts as an improvement
    scheduler: str | None = None  # None, "plateau" (ReduceLROnPlateau on the monitored value) or "cosine"
    progress: bool = True       # show a tqdm bar
    device: str | None = None   # None: setup()'s choice (GPU if present)

    def __post_init__(self):
        checks = [(self.epochs >= 1, "epochs must be >= 1"), (self.accumulate >= 1, "accumulate must be >= 1"),
                  (self.clip in ("norm", "value"), "clip must be 'norm' or 'value'"),
                  (self.mode in ("min", "max"), "mode must be 'min' or 'max'"),
                  (self.accumulate_reduction in ("mean", "sum"), "accumulate_reduction must be 'mean' or 'sum'"),
                  (self.accumulate_remainder in ("step", "drop"), "accumulate_remainder must be 'step' or 'drop'"),
                  (self.scheduler in (None, "plateau", "cosine"), "scheduler must be None, 'plateau' or 'cosine'")]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(f"TrainConfig: {msg}")


@dataclass
class TrainHistory:
    """What happened during training: one row per epoch, the chosen epoch, time."""

    rows: list[dict] = field(default_factory=list)
    best_epoch: int = 0
    best_value: float = float("nan")
    monitor: str = "loss"
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


def batch_size_of(batch: dict) -> int:
    return len(batch["labels"]["M"])


def l1_loss(pred: torch.Tensor, batch: dict) -> torch.Tensor:
    """Mean absolute error against the multimodal label (MMSA's regression loss)."""
    return torch.mean(torch.abs(prediction(pred).view(-1) - batch["labels"]["M"].view(-1)))


def prediction(out) -> torch.Tensor:
    """The multimodal prediction of a forward pass: the tensor itself, or ``out["M"]``."""
    if isinstance(out, dict):
        if "M" not in out:
            raise KeyError(f"a model that returns a dict must put its prediction under 'M' (it returned {sorted(out)})")
        return out["M"]
    return out


class Module(nn.Module):
    """Base class of the book's trainable networks: forward plus the steps the Trainer calls.

    Subclasses implement ``forward(batch)``; the defaults below train it with
    MMSA's L1 loss on the multimodal label. Override any method to change one
    part (Self-MM overrides ``training_step`` and ``on_train_batch_end``).
    """

    def loss(self, out, batch: dict) -> torch.Tensor:
        return l1_loss(out, batch)

    def training_step(self, batch: dict, epoch: int):
        """The loss of one training batch (a tensor), or a dict with ``"loss"`` and named outputs."""
        return self.loss(self(batch), batch)

    def validation_step(self, batch: dict) -> dict:
        """Loss and prediction of one validation batch (no gradients, no state changes)."""
        out = self(batch)
        return {"loss": self.loss(out, batch), "pred": prediction(out)}

    def configure_optimizers(self, cfg: TrainConfig) -> torch.optim.Optimizer:
        """Adam over all trainable parameters; override to return parameter groups with their own rates."""
        return torch.optim.Adam([p for p in self.parameters() if p.requires_grad], lr=cfg.lr,
                                weight_decay=cfg.weight_decay)

    def on_epoch_start(self, epoch: int) -> None:
        pass

    def on_train_batch_end(self, batch: dict, outputs: dict, epoch: int) -> None:
        """Called after every training batch's backward pass with its step outputs (e.g. features)."""

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        pass


# --- distributed ----------------------------------------------------------
def dist_info() -> tuple[int, int]:
    """(rank, world size) of this process: (0, 1) outside ``torchrun``."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def init_distributed() -> tuple[int, int]:
    """Join the process group that ``torchrun`` set up (gloo on CPU, nccl on GPUs); no-op alone."""
    rank, world = dist_info()
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and os.environ.get("MMSA_DEVICE") != "cpu" else "gloo"
        torch.distributed.init_process_group(backend=backend)
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    return dist_info()


def is_main_process() -> bool:
    """True for rank 0 (the process that logs and saves) and for single-process runs."""
    return dist_info()[0] == 0


def shard_batch(batch, rank: int, world: int):
    """This process's share of a global batch: rows ``rank, rank + world, ...``.

    Every process walks the same seeded sequence of global batches and keeps its
    rows, which shards the data like a ``DistributedSampler`` while keeping each
    optimiser step equal to the single-process step with the same global batch.
    """
    n = batch_size_of(batch)

    def take(v):
        if isinstance(v, torch.Tensor) and v.ndim >= 1 and v.shape[0] == n:
            return v[rank::world]
        if isinstance(v, list) and len(v) == n:
            return v[rank::world]
        if isinstance(v, dict):
            return {k: take(x) for k, x in v.items()}
        return v

    return take(batch)


# --- the Trainer ------------------------------------------------------------
class _LossAdapter(Module):
    """Lets a plain ``nn.Module`` + ``loss_fn`` run through the Trainer's hooks."""

    def __init__(self, net: nn.Module, loss_fn: Callable):
        super().__init__()
        self.net, self.loss_fn = net, loss_fn

    def forward(self, batch):
        return self.net(batch)

    def loss(self, out, batch):
        return self.loss_fn(out, batch)


class Trainer:
    """Train a :class:`Module` (or a plain ``nn.Module`` with a ``loss_fn``) and keep its best epoch.

    >>> history = Trainer(TrainConfig(epochs=10, monitor="Corr", mode="max")).fit(net, train, valid,
    ...                                                                          metric_fn=my_metrics)
    """

    def __init__(self, cfg: TrainConfig | None = None, **overrides):
        cfg = cfg or TrainConfig()
        self.cfg = TrainConfig(**{**asdict(cfg), **overrides}) if overrides else cfg

    # the pieces, each small enough to read -------------------------------------------------
    def _validate(self, module: Module, batches: Iterable, device, metric_fn) -> dict:
        module.eval()
        total, n, preds, truth = 0.0, 0, [], []
        with torch.no_grad():
            for batch in batches:
                batch = to_device(batch, device)
                out = module.validation_step(batch)
                size = batch_size_of(batch)
                total += float(out["loss"]) * size
                n += size
                if metric_fn is not None:
                    preds.append(out["pred"].detach().float().view(-1).cpu().numpy())
                    truth.append(batch["labels"]["M"].float().view(-1).cpu().numpy())
        logs = {"valid_loss": total / max(n, 1)}
        if metric_fn is not None and preds:
            logs.update({f"valid_{k}": float(v) for k, v in metric_fn(np.concatenate(preds), np.concatenate(truth)).items()})
        return logs

    def _clip(self, params) -> None:
        if not self.cfg.grad_clip:
            return
        if self.cfg.clip == "norm":
            nn.utils.clip_grad_norm_(params, self.cfg.grad_clip)
        else:
            nn.utils.clip_grad_value_(params, self.cfg.grad_clip)

    def _improved(self, value: float, best: float) -> bool:
        if best is None:
            return True
        return value < best - self.cfg.min_delta if self.cfg.mode == "min" else value > best + self.cfg.min_delta

    def _scheduler(self, optimizer):
        if self.cfg.scheduler == "plateau":
            return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=self.cfg.mode, factor=0.5, patience=2)
        if self.cfg.scheduler == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.cfg.epochs)
        return None

    def fit(self, model: nn.Module, train_batches: Iterable, valid_batches: Iterable, *,
            loss_fn: Callable | None = None, optimizer: torch.optim.Optimizer | None = None,
            metric_fn: Callable[[np.ndarray, np.ndarray], dict] | None = None) -> TrainHistory:
        """Train ``model`` on ``train_batches`` and leave it holding its best epoch's weights.

        ``metric_fn(pred, truth) -> dict`` adds validation metrics to the history
        (and lets ``monitor`` name one of them); ``optimizer`` replaces
        ``configure_optimizers``. Under ``torchrun`` each process trains on its
        share of every batch and the gradients are averaged across processes
        before each step (what DistributedDataParallel does).
        """
        from tqdm.auto import tqdm

        cfg = self.cfg
        module = model if isinstance(model, Module) else _LossAdapter(model, loss_fn or l1_loss)
        if loss_fn is not None and isinstance(model, Module):
            module.loss = lambda out, batch: loss_fn(out, batch)  # an explicit loss wins
        rank, world = init_distributed()
        device = default_device(cfg.device)
        if world > 1 and device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        module.to(device)
        optimizer = optimizer or module.configure_optimizers(cfg)
        scheduler = self._scheduler(optimizer)
        if world > 1:
            _broadcast_parameters(module)
        monitor_key = "valid_loss" if cfg.monitor == "loss" else f"valid_{cfg.monitor}"
        params = [p for g in optimizer.param_groups for p in g["params"]]
        history = TrainHistory(monitor=cfg.monitor)
        best, best_state, waited = None, None, 0
        start = time.perf_counter()
        bar = tqdm(range(1, cfg.epochs + 1), desc=type(model).__name__, disable=not cfg.progress or rank != 0,
                   leave=False)
        for epoch in bar:
            module.train()
            module.on_epoch_start(epoch)
            total, n, step_in_group = 0.0, 0, 0
            epoch_start = time.perf_counter()
            optimizer.zero_grad()
            for i, batch in enumerate(train_batches):
                batch = to_device(batch, device)
                global_size = batch_size_of(batch)
                if world > 1:
                    batch = shard_batch(batch, rank, world)
                out = _step(module, batch, epoch)
                loss = out["loss"]
                if not torch.isfinite(loss):
                    raise TrainingDivergedError(
                        f"the training loss became {float(loss.detach())} in epoch {epoch}, batch {i + 1}: the weights are no "
                        "longer usable. Lower the learning rate (--set lr=...), turn on gradient clipping "
                        "(--set grad_clip=1.0), or check the input for NaN/inf features.")
                scale = batch_size_of(batch) * world / global_size if world > 1 else 1.0
                scaled = loss * scale / (cfg.accumulate if cfg.accumulate_reduction == "mean" else 1)
                scaled.backward()
                module.on_train_batch_end(batch, out, epoch)
                step_in_group += 1
                if step_in_group == cfg.accumulate:
                    if world > 1:
                        _average_gradients(params, world)
                    self._clip(params)
                    optimizer.step()
                    optimizer.zero_grad()
                    step_in_group = 0
                total += float(loss.detach()) * batch_size_of(batch)
                n += batch_size_of(batch)
            if step_in_group and cfg.accumulate_remainder == "step":  # a last, partial group of accumulated batches
                if world > 1:
                    _average_gradients(params, world)
                self._clip(params)
                optimizer.step()
                optimizer.zero_grad()
            train_loss = _reduce_mean(total, n, world, device)
            logs = {"epoch": epoch, "train_loss": train_loss, **self._validate(module, valid_batches, device, metric_fn),
                    "lr": optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - epoch_start}
            if monitor_key not in logs:
                raise ConfigError(f"monitor={cfg.monitor!r} is not measured on the validation split; "
                                  f"measured: {sorted(k[6:] for k in logs if k.startswith('valid_'))} "
                                  "(metrics need a metric_fn)")
            if not math.isfinite(logs["valid_loss"]):
                raise TrainingDivergedError(f"the validation loss became {logs['valid_loss']} in epoch {epoch}; "
                                            "lower the learning rate or check the validation features for NaN/inf")
            history.rows.append(logs)
            module.on_epoch_end(epoch, logs)
            bar.set_postfix(train=f"{train_loss:.3f}", valid=f"{logs['valid_loss']:.3f}")
            value = logs[monitor_key]
            if scheduler is not None:
                scheduler.step(value) if cfg.scheduler == "plateau" else scheduler.step()
            if self._improved(value, best):
                best, best_state, waited, history.best_epoch = value, copy.deepcopy(module.state_dict()), 0, epoch
            else:
                waited += 1
                if cfg.patience is not None and waited >= cfg.patience:
                    break
        if best_state is not None:
            module.load_state_dict(best_state)
        history.best_value = float(best) if best is not None else float("nan")
        history.seconds = time.perf_counter() - start
        return history


def _step(module: Module, batch: dict, epoch: int) -> dict:
    out = module.training_step(batch, epoch)
    return out if isinstance(out, dict) else {"loss": out}


def _average_gradients(params, world: int) -> None:
    """What DistributedDataParallel does at every step, written out: sum each gradient
    over the processes and divide by their number, so all of them take the same step."""
    for p in params:
        if p.grad is not None:
            torch.distributed.all_reduce(p.grad)
            p.grad /= world


def _broadcast_parameters(module: nn.Module) -> None:
    """Start every process from rank 0's weights (and buffers)."""
    for t in list(module.parameters()) + list(module.buffers()):
        torch.distributed.broadcast(t.data, src=0)


def _reduce_mean(total: float, n: int, world: int, device) -> float:
    if world == 1:
        return total / max(n, 1)
    t = torch.tensor([total, float(n)], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(t)
    return float(t[0] / t[1].clamp(min=1))


def evaluate_loss(model: nn.Module, batches: Iterable, loss_fn: Callable, device: torch.device) -> float:
    """Size-weighted mean of ``loss_fn`` over ``batches`` (no gradients)."""
    return Trainer()._validate(_LossAdapter(model, loss_fn), batches, device, None)["valid_loss"]


def predict(model: nn.Module, batches: Iterable, device: torch.device | None = None, key: str = "M") -> np.ndarray:
    """Predictions of ``model`` over ``batches``, in order, as float32 (``out[key]`` for dict outputs)."""
    device = device or next(model.parameters()).device
    model.eval()
    out = []
    with torch.no_grad():
        for batch in batches:
            res = model(to_device(batch, device))
            res = res[key] if isinstance(res, dict) else res
            out.append(res.view(-1).float().cpu().numpy())
    return np.concatenate(out).astype(np.float32)


def collect_outputs(model: nn.Module, batches: Iterable) -> dict[str, np.ndarray]:
    """Every named per-utterance output of a dict-returning ``model`` (predictions, features,
    weights) over ``batches``, in order, as numpy arrays."""
    device = next(model.parameters()).device
    model.eval()
    parts: dict[str, list] = {}
    with torch.no_grad():
        for batch in batches:
            out = model(to_device(batch, device))
            for k, v in out.items():
                if torch.is_tensor(v) and v.ndim >= 1 and len(v) == len(batch["id"]):
                    parts.setdefault(k, []).append(v.float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def fit_regressor(model: nn.Module, train_batches: Iterable, valid_batches: Iterable, cfg: TrainConfig,
                  loss_fn: Callable = l1_loss, optimizer: torch.optim.Optimizer | None = None) -> TrainHistory:
    """Train ``model`` and leave it holding the weights of the epoch with the lowest validation loss
    (the Trainer with a loss function: what chapters 6-8 call)."""
    return Trainer(cfg).fit(model, train_batches, valid_batches, loss_fn=loss_fn, optimizer=optimizer)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
