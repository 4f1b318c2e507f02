#!/usr/bin/env bash
# Side-by-side benchmark of the book's self_mm against MMSA 2.2.1 (see README.md).
# Usage: benchmarks/run.sh [--train-limit N] [--early-stop K] [...]   (--help for all options)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${BOOK_PYTHON:-.venv/bin/python}
exec "$PY" benchmarks/self_mm_vs_mmsa.py "$@"
