"""``python -m mmsa_helpers``: one command line for every dataset (and, from the model chapters on, every model).

Subcommands::

    python -m mmsa_helpers datasets [--data-root DIR]
    python -m mmsa_helpers export -d synthetic --out DIR [--seed S]
    python -m mmsa_helpers train -d synthetic -m text_lstm -s 0 -s 1 --json out.json
    python -m mmsa_helpers train -d emodb --data-root DIR -m audio_svm [--eval-root DIR2]
    python -m mmsa_helpers latency [-m MODEL] [-b 1 -b 32] [--threads 1] [--remake]
    python -m mmsa_helpers exercises --out _build/exercises

Each subcommand is an entry of ``COMMANDS``: its help line, a function that
adds its arguments and a function that runs it and returns an exit status.
``train -d DATASET -m MODEL -s SEED [-s SEED ...] [--json OUT]`` trains any
registered model (``-m list`` shows them) and prints MMSA's test metrics. On the
speech-emotion datasets (``emodb``, ``synthetic_speech``) it runs a speaker-independent
evaluation instead (leave-one-speaker-out, or train on ``--data-root`` and test on
``--eval-root``) and prints accuracy, UAR and weighted F1 as JSON.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from .errors import ConfigError

def _data_root_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", metavar="DIR", default=None,
                   help="folder holding real datasets (default: $MMSA_DATA_ROOT or ~/mmsa_data)")


# --- datasets ---------------------------------------------------------------
def _datasets_args(p):
    _data_root_arg(p)


def run_datasets(args) -> int:
    from .datasets import list_datasets

    table = list_datasets(args.data_root)
    print(f"data root: {table.attrs['data_root']}\n")
    print(table.drop(columns=["looked at"]).to_string(index=False))
    print("\nLooked for:")
    for name, where in zip(table["name"], table["looked at"]):
        if where != "-":
            print(f"  {name}: {where}")
    print("\nWhere to get the real datasets: README.md ('Real datasets') or chapter 1.")
    return 0


# --- export -----------------------------------------------------------------
def _export_args(p):
    p.add_argument("-d", "--dataset", default="synthetic", help="dataset to export (default: synthetic)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder; files go to DIR/<NAME>/...")
    p.add_argument("--seed", type=int, default=0, help="generator seed (synthetic, synthetic_zh only)")
    p.add_argument("--name", default=None, help="folder name under DIR (default: the dataset's name); e.g. "
                   "-d synthetic_zh --name sims writes the CH-SIMS layout that -d sims reads")
    p.add_argument("--no-text-bert", action="store_true",
                   help="do not add MMSA's text_bert token array (skips loading the tokenizer)")
    p.add_argument("--trusted", action="store_true", help="load real pickles with the unrestricted unpickler")
    _data_root_arg(p)


def run_export(args) -> int:
    from .datasets import load_dataset
    from .pickle_io import export_mmsa

    from .datasets import get_spec

    extra = {"seed": args.seed} if get_spec(args.dataset).generated else {}
    kw = dict(data_root=args.data_root, trusted=args.trusted, **extra)
    unaligned = load_dataset(args.dataset, aligned=False, **kw)
    aligned = load_dataset(args.dataset, aligned=True, **kw)
    if not args.no_text_bert:
        from .pretrained import bert_inputs

        for corpus in (unaligned, aligned):
            for split in corpus.splits.values():
                if "text_bert" not in split:
                    split["text_bert"] = bert_inputs(split["raw_text"], max_len=split["text"].shape[1])
    paths = export_mmsa(unaligned, aligned, args.out, args.name or args.dataset)
    for p in paths.values():
        print(p)
    return 0


# --- train ------------------------------------------------------------------
def _train_args(p):
    p.add_argument("-d", "--dataset", default="synthetic", help="dataset name (default: synthetic)")
    p.add_argument("-m", "--model", required=True, help="model name (see --list-models)")
    p.add_argument("-s", "--seed", type=int, action="append", dest="seeds", metavar="SEED",
                   help="seed; repeat for several (default: 0)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a model setting, e.g. --set epochs=5 (values are read as Python literals)")
    p.add_argument("--json", metavar="OUT", help="write the result record (metrics, settings, timings) as JSON")
    p.add_argument("--save", metavar="DIR", help="save each seed's trained model as DIR/<model>-seed<S>.pt")
    p.add_argument("--dump-ulabels", metavar="FILE", default=None,
                   help="self_mm only: write the u-labels of every epoch (seed, epoch, id, y_m, u_t, u_a, u_v and "
                        "the true unimodal labels where the data has them) as CSV, or Parquet for a .parquet name")
    p.add_argument("--eval-root", metavar="DIR2", default=None,
                   help="emodb only: train on every recording under --data-root, test on the (other) speakers "
                        "under DIR2; without it, leave-one-speaker-out")
    _data_root_arg(p)


def _literal(text: str):
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _check_set_values(config: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Refuse a ``--set`` value of another kind than the setting's default (``epochs=abc``, ``lr=fast``,
    ``progress=maybe``), which would otherwise fail deep inside training with a traceback. None is always
    accepted (e.g. ``patience=None``: never stop early); settings whose default is None take anything."""
    for key, value in config.items():
        default = defaults.get(key)
        if default is None or value is None:
            continue
        if isinstance(default, bool):
            ok, kind = isinstance(value, bool) or value in (0, 1), "True or False"
        elif isinstance(default, (int, float)):
            ok, kind = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
        elif isinstance(default, str):
            ok, kind = isinstance(value, str), "a word"
        elif isinstance(default, (tuple, list)):
            ok, kind = isinstance(value, (tuple, list)), "a list of values such as (1, 2)"
        else:
            continue
        if not ok:
            raise ConfigError(f"--set {key}={value!r}: {key} takes {kind} (its default is {default!r}); "
                              "values are read as Python literals")


def run_train(args) -> int:
    from .experiment import run_experiment
    from .models import available_models, get_spec

    from .speech.experiment import EMOTION_DATASETS

    from .speech.emotion import MODEL_DESCRIPTIONS

    if args.model == "list":
        print("Sentiment regression (synthetic, synthetic_zh, mosi, mosei, sims):")
        titles = {"text": "text", "audio": "audio stream", "vision": "vision stream",
                  "fusion": "fusion of text, audio and vision", "self_mm": "self-supervised multi-task learning"}
        for family, title in titles.items():
            print(f" {title}:")
            for name, spec in sorted(available_models().items()):
                if spec.family == family:
                    flags = " [aligned data]" if spec.aligned else " [fine-tunes an encoder]" if spec.text_encoder else ""
                    print(f"  {name:14s} {spec.description}{flags}")
        print(f"Speech emotion ({', '.join(EMOTION_DATASETS)}):")
        for name, description in MODEL_DESCRIPTIONS.items():
            print(f"  audio_{name:8s} {description}")
        return 0
    config = {}
    for item in args.set:
        if "=" not in item:
            raise ConfigError(f"--set expects KEY=VALUE (e.g. --set epochs=5), got {item!r}")
        key, value = item.split("=", 1)
        config[key.strip()] = _literal(value.strip())
    if args.dataset.lower() in EMOTION_DATASETS:
        from .speech.emotion import DEFAULTS

        _check_set_values(config, DEFAULTS)
        return _run_emotion(args, config)
    if args.eval_root is not None:
        raise ConfigError(f"--eval-root applies to the speech-emotion datasets ({', '.join(EMOTION_DATASETS)}), "
                          f"not {args.dataset!r}")
    emotion_only = sorted({f"audio_{m}" for m in MODEL_DESCRIPTIONS} - set(available_models()))
    if args.model in emotion_only:
        sentiment_audio = sorted(m for m in available_models() if m.startswith("audio_"))
        raise ConfigError(f"{args.model} is a speech-emotion model: train it with -d emodb or -d synthetic_speech "
                          f"(on {args.dataset!r}, the audio models are {', '.join(sentiment_audio)})")
    spec = get_spec(args.model)  # unknown names fail here, before any data is loaded
    spec.resolve(**config)        # so do unknown settings
    _check_set_values(config, spec.defaults)
    if args.dump_ulabels and args.model != "self_mm":
        raise ConfigError(f"--dump-ulabels writes Self-MM's generated labels; {args.model!r} has none (use -m self_mm)")
    if args.dump_ulabels and not str(args.dump_ulabels).endswith((".csv", ".parquet")):
        raise ConfigError(f"--dump-ulabels: name the file .csv or .parquet, not {args.dump_ulabels!r}")
    from .records import command_line
    from .training import init_distributed, is_main_process

    _, world = init_distributed()  # under torchrun: join the process group before any training
    result = run_experiment(args.dataset, args.model, args.seeds or [0], data_root=args.data_root, config=config,
                            save_dir=args.save if is_main_process() else None, keep_models=bool(args.dump_ulabels))
    if not is_main_process():
        return 0  # rank 0 reports and writes
    record = result.to_json()
    record["command"] = command_line(args.argv)
    if world > 1:
        import torch

        record["distributed"] = {"world_size": world, "backend": torch.distributed.get_backend()}
    print(f"{args.model} on {result.dataset}{' (aligned)' if result.aligned else ''}, test split, "
          f"seeds {result.seeds} (mean ± std):")
    for key, v in record["test"].items():
        print(f"  {key:15s} {v['mean']:.4f} ± {v['std']:.4f}")
    if args.json:
        from .records import save_record

        save_record(record, args.json)
        print(f"record written to {args.json}")
    if args.save:
        print(f"models saved under {args.save}")
    if args.dump_ulabels:
        _dump_ulabels(result, args.dump_ulabels)
    return 0


def _dump_ulabels(result, path: str) -> None:
    """Every seed's u-label table, one file (a ``seed`` column first)."""
    import pandas as pd
    from pathlib import Path

    frames = [model.ulabel_frame(result.corpus).assign(seed=seed) for seed, model in result.models.items()]
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[["seed", *[c for c in frame.columns if c != "seed"]]]
    Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if str(path).endswith(".parquet"):
        try:
            frame.to_parquet(path, index=False)
        except ImportError as err:
            raise ConfigError(f"writing {path} needs pyarrow (pip install pyarrow); or name the file .csv") from err
    else:
        frame.to_csv(path, index=False)
    print(f"u-labels of {frame.epoch.nunique()} epochs x {len(frames)} seed(s) written to {path}")


def _run_emotion(args, config: dict) -> int:
    import json

    from .speech.experiment import run_emotion_experiment

    record = run_emotion_experiment(args.dataset.lower(), args.model, args.seeds or [0], data_root=args.data_root,
                                    eval_root=args.eval_root, config=config)
    from .records import command_line

    record["command"] = command_line(args.argv)
    if args.save:
        raise ConfigError("--save applies to the sentiment models; the speech-emotion runs train one model per fold")
    text = json.dumps(record, indent=2)
    print(text)
    if args.json:
        from .records import save_record

        save_record(record, args.json)
        print(f"record written to {args.json}", file=sys.stderr)
    return 0


# --- leaderboard ---------------------------------------------------------------
def _leaderboard_args(p):
    from .leaderboard import RECORDS_DIR, SEEDS

    p.add_argument("--records", metavar="DIR", default=str(RECORDS_DIR),
                   help="folder of the JSON records (default: the book's book/records/leaderboard)")
    p.add_argument("-m", "--model", action="append", dest="models", metavar="MODEL",
                   help="only these models (repeat); default: every sentiment model of the book")
    p.add_argument("-s", "--seed", type=int, action="append", dest="seeds", metavar="SEED",
                   help=f"seeds for records that are (re-)made (default: {' '.join(map(str, SEEDS))})")
    p.add_argument("--remake", action="store_true", help="re-train every model even where its record exists")
    p.add_argument("--markdown", metavar="OUT", help="also write the table as Markdown to this file")


def run_leaderboard(args) -> int:
    from pathlib import Path

    from .leaderboard import BOARD_MODELS, SEEDS, collect, leaderboard_frame, leaderboard_table, to_markdown, winners
    from .models import get_spec

    models = args.models or list(BOARD_MODELS)
    for m in models:
        get_spec(m)
    records = collect(models, args.records, remake=args.remake, seeds=args.seeds or SEEDS,
                      log=lambda text: print(text, file=sys.stderr))
    table = leaderboard_table(records)
    import pandas as pd

    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string())
    if len(records) > 1:
        print("\nwinner per metric (x100; † = lead larger than the combined seed std):")
        win = winners(leaderboard_frame(records))
        for metric, row in win.iterrows():
            print(f"  {metric:14s} {row['best']:11s} by {100 * row['gap']:.2f} over {row['runner_up']} "
                  f"(noise {100 * row['noise']:.2f}){' †' if row['beyond_noise'] else ''}")
    if args.markdown:
        Path(args.markdown).write_text(to_markdown(table) + "\n")
    return 0


# --- ablations -----------------------------------------------------------------
def _ablations_args(p):
    from .ablations import RECORDS_ROOT, SEEDS

    p.add_argument("-m", "--model", default="self_mm", help="the model whose variants to train (default: self_mm)")
    p.add_argument("-v", "--variant", action="append", dest="variants", metavar="NAME",
                   help="only these variants (repeat); default: all of them")
    p.add_argument("-s", "--seed", type=int, action="append", dest="seeds", metavar="SEED",
                   help=f"seeds for records that are (re-)made (default: {' '.join(map(str, SEEDS))})")
    p.add_argument("--records", metavar="DIR", default=str(RECORDS_ROOT),
                   help="root folder of the records (default: the book's book/records/ablations)")
    p.add_argument("--remake", action="store_true", help="re-train every variant even where its record exists")


def run_ablations(args) -> int:
    import pandas as pd

    from .ablations import ABLATIONS, SEEDS, collect, variant_config
    from .leaderboard import leaderboard_table

    if args.model not in ABLATIONS:
        raise ConfigError(f"no ablations are defined for {args.model!r}; models with ablations: {sorted(ABLATIONS)}")
    for v in args.variants or []:
        variant_config(args.model, v)
    records = collect(args.model, args.variants, args.records, remake=args.remake, seeds=args.seeds or SEEDS,
                      log=lambda text: print(text, file=sys.stderr))
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(leaderboard_table(records).drop(columns="part").to_string())
    return 0


# --- latency -------------------------------------------------------------------
def _latency_args(p):
    from .latency import BATCH_SIZES, RECORDS_DIR, REPEATS, SPEECH_FEATURES

    p.add_argument("--records", metavar="DIR", default=str(RECORDS_DIR),
                   help="folder of the JSON records (default: the book's book/records/latency)")
    p.add_argument("-m", "--model", action="append", dest="models", metavar="MODEL",
                   help=f"only these models (repeat; {SPEECH_FEATURES} times the acoustic feature extractor); "
                        "default: every leaderboard model and the extractor")
    p.add_argument("-b", "--batch-size", type=int, action="append", dest="batch_sizes", metavar="N",
                   help=f"request sizes to time (repeat; default: {' '.join(map(str, BATCH_SIZES))})")
    p.add_argument("--repeats", type=int, default=REPEATS, help=f"timed requests per size (default: {REPEATS})")
    p.add_argument("--threads", type=int, default=1, help="PyTorch threads while timing (default: 1)")
    p.add_argument("--remake", action="store_true", help="re-measure every model even where its record exists")


def run_latency(args) -> int:
    import pandas as pd

    from .latency import SPEECH_FEATURES, collect, latency_frame
    from .models import get_spec

    for m in args.models or []:
        if m != SPEECH_FEATURES:
            get_spec(m)
    if args.repeats < 1:
        raise ConfigError(f"--repeats must be >= 1, got {args.repeats}")
    if args.threads < 1:
        raise ConfigError(f"--threads must be >= 1, got {args.threads}")
    sizes = args.batch_sizes or [1, 32]
    if min(sizes) < 1:
        raise ConfigError(f"--batch-size must be >= 1, got {min(sizes)}")
    records = collect(args.models, args.records, remake=args.remake, batch_sizes=sizes, repeats=args.repeats,
                      threads=args.threads, log=lambda text: print(text, file=sys.stderr))
    frame = latency_frame(records)
    if len(frame):
        with pd.option_context("display.width", 250, "display.max_columns", 30):
            print(frame.round(3).to_string())
    if SPEECH_FEATURES in records:
        rows = records[SPEECH_FEATURES]["latency"]["rows"]
        print("\nacoustic features (chapter 7's extractor), per second of audio:")
        for r in rows:
            print(f"  {r['audio_seconds']:4.1f} s of audio: {r['median_ms']:8.1f} ms "
                  f"({r['ms_per_audio_second']:.1f} ms per audio second)")
    load = {r.get("machine", {}).get("load_average") for r in records.values()}
    print(f"\nmeasured with {args.threads} thread(s); load average when the records were made: "
          f"{sorted(x for x in load if x is not None)}")
    return 0


# --- exercises --------------------------------------------------------------
def _exercises_args(p):
    p.add_argument("--out", default="_build/exercises", metavar="DIR",
                   help="folder for the sheets, one notebook per chapter (default: _build/exercises)")
    p.add_argument("--root", default=None, metavar="DIR",
                   help="the book's repository, with _toc.yml (default: the one holding mmsa_helpers)")


def run_exercises(args) -> int:
    from .exercises import write_sheets

    paths = write_sheets(args.out, args.root)
    print(f"{len(paths)} exercise sheets (solutions removed) in {args.out}:")
    for path in paths:
        print(f"  {path.name}")
    return 0


# --- robustness ----------------------------------------------------------------
def _robustness_args(p):
    from .robustness_runs import RECORDS_DIR

    p.add_argument("--records", metavar="DIR", default=str(RECORDS_DIR),
                   help="folder of the JSON records (default: the book's book/records/robustness)")
    p.add_argument("-m", "--model", action="append", dest="models", metavar="MODEL",
                   help="only these models (repeat); default: every model of the leaderboard")
    p.add_argument("--models", metavar="DIR", dest="models_dir", default=None,
                   help="load the trained models from DIR/<model>-seed0.pt instead of training them")
    p.add_argument("--save", metavar="DIR", default=None, help="save the models it trains as DIR/<model>-seed0.pt")
    p.add_argument("--remake", action="store_true", help="re-make every record even where it exists")


def run_robustness(args) -> int:
    import pandas as pd

    from .leaderboard import BOARD_MODELS
    from .models import get_spec
    from .robustness_runs import collect, robustness_frame

    models = args.models or list(BOARD_MODELS)
    for m in models:
        get_spec(m)
    if args.models_dir and args.save:
        raise ConfigError("--models loads trained models and --save keeps trained ones: use one of them")
    records = collect(models, args.records, remake=args.remake, models_dir=args.models_dir, save_dir=args.save,
                      log=lambda text: print(text, file=sys.stderr))
    if len(records) > 1 and "lf_dnn" in records:
        frame = robustness_frame(records, "noise")
        table = frame["relative"].unstack("modality").round(3)
        print("relative robustness (MultiBench: area under Non0_acc_2 over noise levels 0 ... 0.9):")
        with pd.option_context("display.width", 200):
            print(table.to_string())
    else:
        for m, r in records.items():
            grid = r["robustness"]["grid"]
            print(m, {k: {mod: round(rows[-1]["Non0_acc_2"], 4) for mod, rows in g.items()} for k, g in grid.items()})
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "datasets": ("list the datasets and whether each is available", _datasets_args, run_datasets),
    "export": ("write a dataset in MMSA's layout (Processed/*.pkl and label.csv)", _export_args, run_export),
    "train": ("train a model over one or more seeds and report MMSA's test metrics (-m list: the models)",
              _train_args, run_train),
    "leaderboard": ("the table of every sentiment model on the embedded data (from stored records, made when missing)",
                    _leaderboard_args, run_leaderboard),
    "ablations": ("a model's ablation table on the embedded data (from stored records, made when missing)",
                  _ablations_args, run_ablations),
    "latency": ("latency per utterance and throughput of every leaderboard model on this machine (stored records, "
                "measured when missing)", _latency_args, run_latency),
    "exercises": ("write every chapter as an exercise sheet: the notebook without its solutions",
                  _exercises_args, run_exercises),
    "robustness": ("every leaderboard model under missing and noisy modalities (from stored records, made when "
                   "missing)", _robustness_args, run_robustness),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mmsa_helpers", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (help_text, add_args, _) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. Exit status: 0 done; 2 a user error (:class:`~mmsa_helpers.errors.UserError`:
    bad data, a dataset not found, an unknown name or setting), printed as one ``error: ...`` message;
    1 anything else, a bug, printed with its traceback."""
    import traceback

    from .errors import UserError

    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return COMMANDS[args.command][2](args)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception:  # a bug, not the user's mistake: show where it happened
        traceback.print_exc()
        print("\nThis is a bug in mmsa_helpers, not a problem with your input; please report it "
              "with the command line and the traceback above.", file=sys.stderr)
        return 1
