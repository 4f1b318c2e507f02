"""The book's sources: pins in step, notebooks clean and complete, table of contents and citations consistent."""
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _pins(lines):
    return sorted(line.strip() for line in lines if "==" in line and not line.strip().startswith("#"))


def test_environment_yml_matches_constraints():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    constraints = _pins((ROOT / "requirements" / "constraints.txt").read_text().splitlines())
    assert _pins(pip_section) == [p for p in constraints if not p.startswith("pip==")]


def test_every_requirement_is_pinned():
    pinned = {p.split("==")[0].lower() for p in _pins((ROOT / "requirements" / "constraints.txt").read_text().splitlines())}
    for line in (ROOT / "requirements" / "book.txt").read_text().splitlines():
        name = re.split(r"[<>=\[ ]", line.strip())[0].lower()
        if name and not name.startswith("#"):
            assert name.replace("_", "-") in {p.replace("_", "-") for p in pinned}, name
    assert "torch==2.13.0" in (ROOT / "requirements" / "constraints.txt").read_text()


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name}: strip outputs (jupyter nbconvert --clear-output)"
            assert cell.get("execution_count") is None, f"{path.name}: execution counts stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_follows_the_book_conventions(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "mmsa_helpers.setup(" in "".join(code[0]["source"]), "first code cell must call mmsa_helpers.setup()"
    assert any("remove-cell" in c.get("metadata", {}).get("tags", []) and "assert" in "".join(c["source"])
               for c in code), "needs a hidden assertion cell (tag remove-cell)"
    assert "## Summary" in text and "## Exercises" in text
    assert len(re.findall(r"^# ", text, flags=re.M)) == 1, "exactly one level-1 title"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_toc_lists_every_notebook_and_page():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in files, f"{nb.name} is not in _toc.yml"
    for f in files + [toc["root"]]:
        assert (ROOT / f"{f}.ipynb").exists() or (ROOT / f"{f}.md").exists(), f


def test_citations_exist_in_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = set(re.findall(r"@\w+\{([^,]+),", bib))
    sources = [p.read_text() for p in NOTEBOOKS] + [p.read_text() for p in (ROOT / "book").glob("*.md")]
    cited = set()
    for s in sources:
        for group in re.findall(r"\{cite[pt]?\}`([^`]+)`", s):
            cited.update(k.strip() for k in group.split(","))
    assert cited, "no citations found"
    assert cited <= keys, f"unknown citation keys: {sorted(cited - keys)}"


def test_bibliography_parses_with_unique_keys():
    # pybtex is what sphinxcontrib-bibtex reads the file with: a missing brace fails the whole build
    from pybtex.database import parse_file

    bib_path = ROOT / "book" / "references.bib"
    keys = re.findall(r"^@\w+\{([^,]+),", bib_path.read_text(), flags=re.M)
    entries = parse_file(str(bib_path)).entries
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert sorted(entries) == sorted(keys)
