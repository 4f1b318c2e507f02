"""``python -m mmsa_helpers``: one command line for every dataset (and, from the model chapters on, every model).

Subcommands::

    python -m mmsa_helpers datasets [--data-root DIR]
    python -m mmsa_helpers export -d synthetic --out DIR [--seed S]

Each subcommand is an entry of ``COMMANDS``: its help line, a function that
adds its arguments and a function that runs it and returns an exit status.
The model chapters add ``train`` the same way
(``train -d DATASET -m MODEL -s SEED [-s SEED ...] [--json OUT]``).
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable

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
    p.add_argument("--seed", type=int, default=0, help="generator seed (synthetic only)")
    p.add_argument("--no-text-bert", action="store_true",
                   help="do not add MMSA's text_bert token array (skips loading the tokenizer)")
    p.add_argument("--trusted", action="store_true", help="load real pickles with the unrestricted unpickler")
    _data_root_arg(p)


def run_export(args) -> int:
    from .datasets import load_dataset
    from .pickle_io import export_mmsa

    extra = {"seed": args.seed} if args.dataset == "synthetic" else {}
    kw = dict(data_root=args.data_root, trusted=args.trusted, **extra)
    unaligned = load_dataset(args.dataset, aligned=False, **kw)
    aligned = load_dataset(args.dataset, aligned=True, **kw)
    if not args.no_text_bert:
        from .pretrained import bert_inputs

        for corpus in (unaligned, aligned):
            for split in corpus.splits.values():
                if "text_bert" not in split:
                    split["text_bert"] = bert_inputs(split["raw_text"], max_len=split["text"].shape[1])
    paths = export_mmsa(unaligned, aligned, args.out, args.dataset)
    for p in paths.values():
        print(p)
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "datasets": ("list the datasets and whether each is available", _datasets_args, run_datasets),
    "export": ("write a dataset in MMSA's layout (Processed/*.pkl and label.csv)", _export_args, run_export),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mmsa_helpers", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (help_text, add_args, _) in COMMANDS.items():
        add_args(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    from .errors import DatasetNotFoundError, MMSADataError

    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command][2](args)
    except (DatasetNotFoundError, MMSADataError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
