"""Exercise sheets (``make exercises``): no solution left, valid notebooks, every exercise kept."""
import ast
import json
import re
from pathlib import Path

import nbformat
import pytest

from mmsa_helpers.cli import main
from mmsa_helpers.curriculum import chapter_paths
from mmsa_helpers.errors import ConfigError
from mmsa_helpers.exercises import (SHEET_NOTE, cell_text, is_solution_cell, solution_blocks,
                                    split_solutions, strip_solutions)

CHAPTERS = chapter_paths()
IDS = [p.stem for p in CHAPTERS]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    out = tmp_path_factory.mktemp("exercises")
    assert main(["exercises", "--out", str(out)]) == 0
    return {p.stem: out / p.name for p in CHAPTERS}


def _solution_lines(block: str) -> list[str]:
    """The lines of a Solution block that say something (not fences, options or short code)."""
    lines = [line.strip() for line in block.splitlines()[1:-1]]
    return [line for line in lines if len(line) >= 25 and not line.startswith((":", "```", "~~~"))]


def _exercises(nb: dict) -> str:
    text = "\n\n".join(cell_text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    text, _ = split_solutions(text)
    match = re.search(r"^## Exercises\s*$(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    return match.group(1).strip() if match else ""


def test_every_chapter_has_a_sheet(sheets):
    assert len(sheets) == len(CHAPTERS) >= 12
    assert all(path.exists() for path in sheets.values())


def test_sheets_contain_no_solution_text(sheets):
    blocks = [b for path in CHAPTERS for b in solution_blocks(load(path))]
    assert len(blocks) >= 40, "the chapters hold fewer Solution blocks than expected"
    lines = {line for b in blocks for line in _solution_lines(b)}
    assert len(lines) > 100
    for name, path in sheets.items():
        text = path.read_text(encoding="utf-8")
        sheet = load(path)
        assert "{admonition} Solution" not in text, name
        body = "\n".join(cell_text(c) for c in sheet["cells"])
        # a line the chapter also has outside its solutions (a line of code, say) is not a leak
        chapter = "\n".join(split_solutions(cell_text(c))[0] for c in load(Path(CHAPTERS[IDS.index(name)]))["cells"]
                            if not is_solution_cell(c))
        leaked = [line for line in lines if line in body and line not in chapter]
        assert not leaked, f"{name}: solution text in the sheet: {leaked[:3]}"
        assert not any(is_solution_cell(c) for c in sheet["cells"]), name


@pytest.mark.parametrize("name", IDS)
def test_sheet_is_a_valid_notebook_without_outputs(sheets, name):
    nb = nbformat.read(str(sheets[name]), as_version=4)
    nbformat.validate(nb)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert SHEET_NOTE in [c.source for c in nb.cells if c.cell_type == "markdown"]


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_sheet_keeps_the_exercises_and_everything_else(sheets, path):
    nb, sheet = load(path), load(sheets[path.stem])
    exercises = _exercises(nb)
    assert exercises, f"{path.name}: no '## Exercises' section"
    assert _exercises(sheet) == exercises
    kept = [c for c in nb["cells"] if not is_solution_cell(c)]
    sheet_cells = [c for c in sheet["cells"] if cell_text(c) != SHEET_NOTE]
    assert len(sheet_cells) == len(kept)
    for a, b in zip(kept, sheet_cells):
        if a["cell_type"] == "code":
            assert cell_text(a) == cell_text(b) and a["metadata"] == b["metadata"]
        else:
            assert split_solutions(cell_text(a))[0] == cell_text(b)


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_the_cells_that_compute_solutions_are_tagged(path):
    """Code after the Exercises heading, or saying it serves the solutions, carries the tag ``solution``."""
    cells = load(path)["cells"]
    start = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                 and re.search(r"^## Exercises\s*$", cell_text(c), flags=re.M))
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        first = cell_text(cell).lstrip().splitlines()[0] if cell_text(cell).strip() else ""
        says = first.startswith("#") and re.search(r"solution|exercise", first, flags=re.I)
        if i > start or says:
            assert is_solution_cell(cell), f"{path.name}, cell {i}: tag it 'solution' ({first[:50]!r})"


def _names(source: str, ctx) -> set[str]:
    tree = ast.parse(source)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)} | (
        {a.asname or a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
         for a in n.names} if ctx is ast.Store else set())


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_sheet_runs_without_the_solution_cells(path):
    """No kept cell reads a name that only a removed solution cell defines."""
    cells = [c for c in load(path)["cells"] if c["cell_type"] == "code"]
    kept_defs = set().union(*(_names(cell_text(c), ast.Store) for c in cells if not is_solution_cell(c)))
    only_solutions = set()
    for cell in cells:
        if is_solution_cell(cell):
            only_solutions |= _names(cell_text(cell), ast.Store) - kept_defs
        else:
            used = _names(cell_text(cell), ast.Load) & only_solutions
            assert not used, f"{path.name}: a kept cell uses {sorted(used)}, defined in a solution cell"


def test_split_solutions_keeps_the_rest_and_finds_nested_fences():
    text = ("1. **Q.** Why?\n\n````{admonition} Solution\n:class: dropdown\nBecause.\n\n"
            "```python\nx = 1\n```\n````\n\n2. Next.\n\n:::{admonition} Solution\nNo.\n:::\n")
    kept, blocks = split_solutions(text)
    assert kept == "1. **Q.** Why?\n\n2. Next.\n\n"
    assert len(blocks) == 2 and "x = 1" in blocks[0] and blocks[1].startswith(":::")
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# T\n", text]},
                    {"cell_type": "code", "metadata": {"tags": ["remove-cell", "solution"]}, "source": "a = 1",
                     "outputs": [], "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    sheet = strip_solutions(nb)
    assert [c["cell_type"] for c in sheet["cells"]] == ["markdown", "markdown"]
    assert "Because" not in json.dumps(sheet) and "Because" in json.dumps(nb)


def test_an_unclosed_solution_is_an_error():
    with pytest.raises(ConfigError, match="not closed"):
        split_solutions("```{admonition} Solution\nforever\n")


def test_the_first_sheet_runs_from_top_to_bottom(sheets):
    """A sheet is a working notebook, not only a valid file: run the shortest chapter's sheet."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(sheets[IDS[0]]), as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(CHAPTERS[0].parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
