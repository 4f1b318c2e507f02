"""Exercise sheets: every chapter notebook with its solutions taken out (``make exercises``).

A chapter marks its solutions in two ways, and a sheet drops both:

* in the prose, each answer is an ``{admonition} Solution`` block (fenced with
  backticks or colons) under the exercise it answers;
* in the code, the cells that compute the solutions' numbers, or check them
  in hidden assertions, carry the cell tag ``solution`` (see
  :data:`SOLUTION_TAG`).

Everything else stays: the chapter's text and code, its hidden cells (later
cells need what they compute) and the exercises themselves. Outputs are
cleared, and a note under the title says where the solutions are.

>>> paths = write_sheets("_build/exercises")   # one .ipynb per chapter of _toc.yml
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from .errors import ConfigError

#: The cell tag of code cells that compute or check an exercise's solution.
SOLUTION_TAG = "solution"

_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{admonition\}\s*Solution\b")

SHEET_NOTE = ("**Exercise sheet.** This is the chapter with the solutions taken out "
              "(`make exercises` wrote it). The book's page of the chapter has them, "
              "in the collapsed *Solution* boxes under each exercise.")


def split_solutions(markdown: str) -> tuple[str, list[str]]:
    """Split a markdown text into the text without its Solution blocks, and the blocks.

    A block runs from its opening fence to the first line that closes that
    fence (the same character, at least as many times, nothing else).

    Raises
    ------
    ConfigError
        If a Solution block is never closed.
    """
    kept, blocks, block, fence = [], [], None, ""
    for line in markdown.splitlines(keepends=True):
        if block is None:
            match = _OPEN.match(line.strip())
            if match:
                block, fence = [line], match.group("fence")
            else:
                kept.append(line)
            continue
        block.append(line)
        closing = line.strip()
        if closing and set(closing) == {fence[0]} and len(closing) >= len(fence):
            blocks.append("".join(block))
            block = None
    if block is not None:
        raise ConfigError(f"a Solution block is not closed (no line {fence!r} after it): "
                          f"{''.join(block)[:80]!r}")
    text = re.sub(r"\n{3,}", "\n\n", "".join(kept))
    return text, blocks


def cell_text(cell: dict) -> str:
    """The source of a notebook cell as one string."""
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def is_solution_cell(cell: dict) -> bool:
    """Whether a code cell carries the ``solution`` tag."""
    return cell["cell_type"] == "code" and SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def solution_blocks(nb: dict) -> list[str]:
    """Every Solution block of a notebook's markdown cells, in order."""
    return [b for c in nb["cells"] if c["cell_type"] == "markdown"
            for b in split_solutions(cell_text(c))[1]]


def strip_solutions(nb: dict) -> dict:
    """A copy of a notebook without Solution blocks, ``solution`` cells or outputs."""
    sheet = copy.deepcopy(nb)
    cells = []
    for cell in sheet["cells"]:
        if is_solution_cell(cell):
            continue
        if cell["cell_type"] == "markdown":
            text, _ = split_solutions(cell_text(cell))
            cell["source"] = text.splitlines(keepends=True)
        elif cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    title = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and re.search(r"^# ", cell_text(c), flags=re.M)), -1)
    note = {"cell_type": "markdown", "metadata": {}, "source": [SHEET_NOTE]}
    if sheet.get("nbformat", 4) >= 4 and sheet.get("nbformat_minor", 0) >= 5:
        note["id"] = "exercise-sheet-note"
    cells.insert(title + 1, note)
    sheet["cells"] = cells
    return sheet


def write_sheets(out: str | Path, root: str | Path | None = None) -> list[Path]:
    """Write the exercise sheet of every chapter of ``_toc.yml`` into ``out``; return the paths."""
    from .curriculum import chapter_paths

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in chapter_paths(root):
        nb = json.loads(path.read_text(encoding="utf-8"))
        target = out / path.name
        target.write_text(json.dumps(strip_solutions(nb), indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    return written
