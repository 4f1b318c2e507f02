"""The instructors' page and the real-data appendix: prerequisites, time estimates, one dataset table."""
import json
import re
from pathlib import Path

import pytest

from mmsa_helpers import curriculum
from mmsa_helpers.catalog import NOT_LOADED, DATASETS, data_root_markdown, loaded_datasets
from mmsa_helpers.curriculum import (PREREQUISITES, RATES, chapter_table, exercise_count, notebook_stats,
                                     prerequisite_problems, prose_words, semester_plan, student_minutes,
                                     toc_chapters)
from mmsa_helpers.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = [Path(f).name for f in toc_chapters()]


def test_every_toc_chapter_has_its_prerequisites_declared_and_earlier():
    assert len(CHAPTERS) >= 12
    assert prerequisite_problems(CHAPTERS) == []
    stale = set(PREREQUISITES) - set(CHAPTERS)
    assert not stale, f"PREREQUISITES names chapters that are not in _toc.yml: {sorted(stale)}"


def test_prerequisite_problems_are_found():
    order = ["02_the_data", "01_what_is_msa", "99_new"]
    problems = prerequisite_problems(order)
    assert any("02_the_data needs 01_what_is_msa" in p for p in problems)
    assert any("99_new is in _toc.yml but not in curriculum.PREREQUISITES" in p for p in problems)


def test_the_map_draws_only_direct_prerequisites():
    assert "06_neural_text" in PREREQUISITES["12_self_mm"]
    assert curriculum.direct_prerequisites("12_self_mm") == ["09_early_late_fusion"]
    assert "01_what_is_msa" in curriculum.all_prerequisites("12_self_mm")


def _nb(*cells):
    return {"cells": [{"cell_type": kind, "metadata": {"tags": tags}, "source": src} for kind, src, tags in cells]}


def test_notebook_stats_counts_what_a_student_meets():
    text = ("(ch-x)=\n# Title words\n\nOne two three {glue:text}`n:.1f` four.\n\n```python\nnot = counted\n```\n\n"
            "## Exercises\n\n1. **First.** Do it.\n\n```{admonition} Solution\n:class: dropdown\nsecret words here\n```\n"
            "\n**2. Second.** Again.\n\n## References\n")
    nb = _nb(("markdown", text, []), ("code", "a = 1\nb = 2\n", []), ("code", "assert a", ["remove-cell"]),
             ("code", "plot()", ["hide-input"]), ("code", "x = 1", ["remove-cell", "solution"]))
    stats = notebook_stats(nb)
    # words: title 2, sentence 5 (the glued number is one), headings 2, items 4 + 3 (their numbers count)
    assert stats == {"words": 16, "code cells": 1, "code lines": 2, "figures and tables": 1, "exercises": 2}
    minutes = student_minutes(stats)
    assert minutes["exercises"] == 2 * RATES.minutes_per_exercise
    assert minutes["total"] == pytest.approx(minutes["reading"] + minutes["code"] + minutes["exercises"])
    assert prose_words("{glue:text}`n:.1f`") == 1 and exercise_count("no exercises") == 0


def test_the_chapter_table_and_the_semester_plan_cover_every_chapter():
    table = chapter_table()
    assert list(table.index) == CHAPTERS
    assert (table["exercises"] > 0).all() and (table["total min"] > 60).all()
    weeks = semester_plan(table)
    covered = [n for w in weeks for n in w["chapters"] if "part of" not in w or w["part of"][0] == 1]
    assert covered == CHAPTERS
    assert all(w["minutes"] <= RATES.week_minutes for w in weeks)


def test_measured_times_come_from_the_timer_file_then_the_readme(tmp_path):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\nparts:\n  - caption: A\n    numbered: true\n"
                                       "    chapters:\n      - file: notebooks/01_a\n      - file: notebooks/02_b\n"
                                       "      - file: notebooks/03_c\n")
    (tmp_path / "README.md").write_text("| notebook | seconds |\n|---|---|\n| 01 A | 4.4 |\n| 02 B | 8.2 |\n")
    (tmp_path / "_build").mkdir()
    (tmp_path / "_build" / "notebook_times.txt").write_text(
        "notebook  seconds  status\nnotebooks/02_b.ipynb      9.5  ok\nnotebooks/03_c.ipynb  1.0  FAILED\n")
    assert curriculum.measured_seconds(tmp_path) == {
        "01_a": (4.4, "README"), "02_b": (9.5, "_build/notebook_times.txt"), "03_c": (None, "not measured")}
    with pytest.raises(ConfigError, match="without a notebook"):
        curriculum.chapter_paths(tmp_path)
    with pytest.raises(ConfigError, match="no _toc.yml"):
        curriculum.repo_root(tmp_path / "nowhere")


def test_readme_holds_the_catalog_table_of_the_real_datasets():
    readme = (ROOT / "README.md").read_text()
    assert data_root_markdown() in readme, "README's dataset table differs from mmsa_helpers.catalog: " \
        "paste catalog.data_root_markdown() into README.md"
    assert [f.name for f in loaded_datasets()] == [n for n, f in DATASETS.items() if f.layout != NOT_LOADED]
    assert {"mosi", "mosei", "sims", "meld", "emodb"} <= {f.name for f in loaded_datasets()}


def test_the_real_data_appendix_renders_the_catalog():
    nb = json.loads((ROOT / "book" / "outgrow_laptop.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "loaded_datasets()" in code and "list_datasets(" in code
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    for flag in ("--nnodes", "--node_rank", "--master_addr", "--nproc_per_node", "MMSA_DEVICE", "not measured"):
        assert flag in text, flag


def test_make_lists_the_appendix_notebooks_and_the_exercises_target():
    make = (ROOT / "Makefile").read_text()
    nbval = next(line for line in make.splitlines() if "--nbval-lax" in line)
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        assert f"book/{nb.name}" in nbval, f"add book/{nb.name} to the Makefile's notebooks target"
    assert re.search(r"^exercises: .*\n\t.*-m mmsa_helpers exercises --out _build/exercises", make, flags=re.M)
    assert "make exercises" in (ROOT / "README.md").read_text()
