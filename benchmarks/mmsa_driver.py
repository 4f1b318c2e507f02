"""Run MMSA 2.2.1's Self-MM on CPU on an MMSA-layout pickle and time it.

This script runs INSIDE MMSA's own virtual environment (it imports ``MMSA``,
never ``mmsa_helpers``); ``self_mm_vs_mmsa.py`` starts it. It

* makes ``torch.cuda.set_device`` a no-op for CPU devices (MMSA's ``run.py``
  calls it unconditionally, and on a CPU device PyTorch raises
  ``ValueError: Expected a cuda device, but got: cpu``);
* writes a config file: MMSA's own ``config_regression.json`` with the
  dataset root, ``train_samples``, the local encoder (``pretrained``,
  ``text_out``), ``early_stop``, ``save_labels`` and ``res_save_dir`` changed;
* wraps the Self-MM trainer to time every epoch (training + validation) and the
  test pass, and ``MMSA.run._run`` to catch the test metrics that
  ``MMSA_run`` only logs;
* converts MMSA's u-label pickle (``<res_save_dir>/self_mm-mosi-labels.pkl``)
  into the CSV layout of the book's ``--dump-ulabels`` (seed, epoch, id, y_m,
  u_t, u_a, u_v, y_t, y_a, y_v).

Nothing of MMSA is copied here: it is imported and called.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import platform
import sys
import time
from pathlib import Path


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", required=True,
                   help="folder holding MOSI/Processed/unaligned_50.pkl (MMSA's dataset_root_dir)")
    p.add_argument("--pretrained", required=True, help="local folder of the BERT-type text encoder")
    p.add_argument("--text-out", type=int, default=None,
                   help="hidden size of the encoder (default: read from its config.json)")
    p.add_argument("--early-stop", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--update-epochs", type=int, default=4)
    p.add_argument("--finetune", type=int, default=1, help="1: fine-tune the encoder (MMSA's default), 0: frozen")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's choice)")
    p.add_argument("--work", required=True, help="folder for the config, logs, weights, labels and result")
    p.add_argument("--out", required=True, help="result JSON to write")
    return p.parse_args(argv)


def patch_cuda_set_device(torch):
    """MMSA's run.py calls torch.cuda.set_device(args['device']) even when the device is the CPU."""
    original = torch.cuda.set_device

    def set_device(device):
        if isinstance(device, str):
            device = torch.device(device)
        if isinstance(device, torch.device) and device.type == "cpu":
            return None
        return original(device)

    torch.cuda.set_device = set_device


def write_config(args, pickle_path: Path, train_samples: int, text_out: int, res_dir: Path) -> Path:
    import MMSA

    default = Path(MMSA.__file__).parent / "config" / "config_regression.json"
    cfg = json.loads(default.read_text())
    common = cfg["datasetCommonParams"]
    common["dataset_root_dir"] = str(Path(args.data_root).resolve())
    for kind in ("unaligned", "aligned"):
        common["mosi"][kind]["train_samples"] = int(train_samples)  # sizes ULGM's feature and label banks
    common["mosi"]["unaligned"]["featurePath"] = os.path.relpath(pickle_path, common["dataset_root_dir"])
    sm_common = cfg["self_mm"]["commonParams"]
    sm_common.update(early_stop=int(args.early_stop), save_labels=True, use_finetune=bool(args.finetune),
                     update_epochs=int(args.update_epochs),
                     # SELF_MM.do_train pickles the labels to args.res_save_dir, which MMSA_run never sets
                     res_save_dir=str(res_dir))
    sm_mosi = cfg["self_mm"]["datasetParams"]["mosi"]
    sm_mosi.update(pretrained=str(Path(args.pretrained).resolve()), transformers="bert", text_out=int(text_out),
                   batch_size=int(args.batch_size))
    path = Path(args.work) / "mmsa_config.json"
    path.write_text(json.dumps(cfg, indent=1))
    return path


def main(argv=None) -> int:
    args = parse_args(argv)
    work = Path(args.work)
    for sub in ("models", "results", "logs"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    for stale in (work / "logs" / "self_mm-mosi.log", work / "results" / "self_mm-mosi-labels.pkl",
                  work / "models" / "self_mm-mosi.pth"):
        stale.unlink(missing_ok=True)   # MMSA appends to its log and would re-use old files
    t_start = time.perf_counter()

    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    patch_cuda_set_device(torch)

    pickle_path = Path(args.data_root) / "MOSI" / "Processed" / "unaligned_50.pkl"
    with open(pickle_path, "rb") as f:   # our own export: trusted
        data = pickle.load(f)
    train = data["train"]
    n_train = len(train["regression_labels"])
    text_out = args.text_out
    if text_out is None:
        text_out = int(json.loads((Path(args.pretrained) / "config.json").read_text())["hidden_size"])
    config_file = write_config(args, pickle_path, n_train, text_out, work / "results")

    import MMSA
    import MMSA.run as mmsa_run
    from MMSA.models.AMIO import AMIO
    from MMSA.trains.multiTask.SELF_MM import SELF_MM

    timing = {"epoch_start": [], "val_start": [], "val_end": [], "train_start": None, "train_end": None,
              "test_start": None, "test_end": None, "val_loss": []}
    snapshots: list[dict] = []
    in_train = {"on": False}

    orig_module_train = AMIO.train

    def amio_train(self, mode=True):
        if mode and in_train["on"]:
            timing["epoch_start"].append(time.perf_counter())
        return orig_module_train(self, mode)

    AMIO.train = amio_train

    orig_do_train, orig_do_test = SELF_MM.do_train, SELF_MM.do_test

    def do_train(self, model, dataloader, return_epoch_results=False):
        timing["train_start"] = time.perf_counter()
        in_train["on"] = True
        try:
            return orig_do_train(self, model, dataloader, return_epoch_results)
        finally:
            in_train["on"] = False
            timing["train_end"] = time.perf_counter()

    def do_test(self, model, dataloader, mode="VAL", return_sample_results=False):
        t0 = time.perf_counter()
        if mode == "TEST":
            timing["test_start"] = t0
        elif mode == "VAL":
            timing["val_start"].append(t0)
            if in_train["on"]:
                # the u-labels as do_train is about to save them for this epoch; copied, because on CPU
                # MMSA's own `v.cpu().numpy()` is a view of the live bank (see the u-label notes below)
                snapshots.append({k: v.detach().clone().numpy() for k, v in self.label_map.items()})
        res = orig_do_test(self, model, dataloader, mode, return_sample_results)
        t1 = time.perf_counter()
        if mode == "TEST":
            timing["test_end"] = t1
        elif mode == "VAL":
            timing["val_end"].append(t1)
            timing["val_loss"].append(float(res["Loss"]))  # rounded to 4 decimals: what MMSA compares
        return res

    SELF_MM.do_train, SELF_MM.do_test = do_train, do_test

    caught = {}
    orig_run = mmsa_run._run

    def _run(run_args, num_workers=4, is_tune=False, from_sena=False):
        caught["args"] = {k: (v if isinstance(v, (int, float, str, bool, list, type(None))) else str(v))
                          for k, v in dict(run_args).items()}
        res = orig_run(run_args, num_workers, is_tune, from_sena)
        caught["result"] = res
        return res

    mmsa_run._run = _run

    mmsa_run.MMSA_run("self_mm", "mosi", config_file=str(config_file), seeds=[args.seed], gpu_ids=[], num_workers=0,
                      verbose_level=1, model_save_dir=str(work / "models"), res_save_dir=str(work / "results"),
                      log_dir=str(work / "logs"))

    if "result" not in caught:
        raise RuntimeError("MMSA_run returned without test results (see the MMSA log under " f"{work / 'logs'})")
    test = {k: float(v) for k, v in caught["result"].items()}
    epochs = len(timing["val_end"])
    epoch_seconds = [round(e - s, 3) for s, e in zip(timing["epoch_start"], timing["val_end"])]
    train_only = [round(v - s, 3) for s, v in zip(timing["epoch_start"], timing["val_start"])]
    val_seconds = [round(e - s, 3) for s, e in zip(timing["val_start"], timing["val_end"])]
    do_train_seconds = timing["train_end"] - timing["train_start"]

    # u-labels. MMSA pickles {epoch: {"fusion", "text", "audio", "vision": arrays over the training rows in
    # pickle order (the bank index is the dataset index), "ids": the ids in the epoch's *shuffled* batch
    # order}} to <res_save_dir>/self_mm-mosi-labels.pkl. On a CPU device each array there is a numpy VIEW
    # of the live label bank (Tensor.cpu() returns the same tensor, .numpy() shares its memory), so every
    # epoch of that pickle holds the FINAL labels. The per-epoch values come from our copies taken at
    # the same moment (after the epoch's training, before its save); the pickle is checked against
    # the last copy.
    labels_pkl = work / "results" / "self_mm-mosi-labels.pkl"
    with open(labels_pkl, "rb") as f:
        saved = pickle.load(f)
    ids = list(train["id"])
    if len(snapshots) != len(saved):
        raise RuntimeError(f"{len(snapshots)} u-label copies but MMSA saved {len(saved)} epochs")
    for epoch in sorted(saved):
        if sorted(saved[epoch]["ids"]) != sorted(ids):
            raise RuntimeError(f"epoch {epoch}: MMSA's saved ids are not the training ids of the pickle")
    last = saved[max(saved)]
    pickle_matches_last = all(np.allclose(last[k], snapshots[-1][k]) for k in ("fusion", "text", "audio", "vision"))
    pickle_aliased = len(saved) > 1 and all(
        np.array_equal(saved[e][k], last[k]) for e in saved for k in ("text", "audio", "vision")) and not all(
        np.array_equal(snapshots[0][k], snapshots[-1][k]) for k in ("text", "audio", "vision"))
    truth = {f"y_{m.lower()}": np.asarray(train[f"regression_labels_{m}"], dtype=float)
             for m in "TAV" if f"regression_labels_{m}" in train}
    ulabels_csv = work / "mmsa_ulabels.csv"
    with open(ulabels_csv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["seed", "epoch", "id", "y_m", "u_t", "u_a", "u_v", *truth])
        for epoch, lab in enumerate(snapshots, 1):
            cols = [lab["fusion"], lab["text"], lab["audio"], lab["vision"], *truth.values()]
            for i, uid in enumerate(ids):
                w.writerow([args.seed, epoch, uid, *(f"{float(c[i]):.6g}" for c in cols)])

    import transformers

    log_file = work / "logs" / "self_mm-mosi.log"
    result = {
        "mmsa_version": getattr(MMSA, "__version__", None) or _dist_version("MMSA"),
        "torch": torch.__version__, "transformers": transformers.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
        "seed": args.seed, "n_train": n_train, "n_valid": len(data["valid"]["regression_labels"]),
        "n_test": len(data["test"]["regression_labels"]),
        "early_stop": args.early_stop, "batch_size": args.batch_size, "update_epochs": args.update_epochs,
        "finetune": bool(args.finetune), "text_out": text_out,
        "epochs_run": epochs, "best_epoch": _best_epoch(timing["val_loss"]), "valid_loss": timing["val_loss"],
        "epoch_seconds": epoch_seconds, "epoch_train_seconds": train_only, "epoch_valid_seconds": val_seconds,
        "do_train_seconds": round(do_train_seconds, 3),
        "seconds_per_epoch": round(do_train_seconds / max(epochs, 1), 3),
        "test_seconds": round(timing["test_end"] - timing["test_start"], 3),
        "wall_seconds": round(time.perf_counter() - t_start, 3),
        "test": test,
        "config_file": str(config_file), "config": caught.get("args"),
        "ulabels_csv": str(ulabels_csv), "labels_pkl": str(labels_pkl), "log": str(log_file),
        "labels_pkl_matches_last_epoch": bool(pickle_matches_last),
        "labels_pkl_epochs_alias_final_labels": bool(pickle_aliased),
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"MMSA result written to {args.out}")
    return 0


def _dist_version(name):
    from importlib.metadata import version

    return version(name)


def _best_epoch(losses):
    """SELF_MM.do_train's rule: an epoch is better when its validation loss is <= best - 1e-6."""
    best, best_epoch = 1e8, None
    for i, loss in enumerate(losses, 1):
        if loss <= best - 1e-6:
            best, best_epoch = loss, i
    return best_epoch


if __name__ == "__main__":
    sys.exit(main())
