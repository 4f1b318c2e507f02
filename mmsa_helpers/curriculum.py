"""The book as a course (appendix "For instructors"): chapters, prerequisites, student time, plans.

Nothing here lists the chapters: they are read from ``_toc.yml`` (every file of
a numbered part) and their notebooks. The one thing declared by hand is
:data:`PREREQUISITES`, the chapters each chapter builds on; a test checks that
every chapter of the toc is in it and that every prerequisite comes earlier.

Student time is an estimate made from the notebook, with the rates below
(:data:`RATES`): words of prose at a reading speed, code cells shown on the
page to run and read, figures and tables to look at, and exercises.
"""
from __future__ import annotations

import json
import math
import re
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import ConfigError

#: The chapters each chapter builds on (by notebook name), declared once.
PREREQUISITES: dict[str, tuple[str, ...]] = {
    "01_what_is_msa": (),
    "02_the_data": ("01_what_is_msa",),
    "03_measuring_predictions": ("02_the_data",),
    "04_lexicon_sentiment": ("03_measuring_predictions",),
    "05_classic_ml": ("04_lexicon_sentiment",),
    "06_neural_text": ("05_classic_ml",),
    "07_speech": ("03_measuring_predictions", "06_neural_text"),
    "08_vision": ("03_measuring_predictions", "06_neural_text"),
    "09_early_late_fusion": ("06_neural_text", "07_speech", "08_vision"),
    "10_tensor_fusion": ("09_early_late_fusion",),
    "11_attention_fusion": ("09_early_late_fusion",),
    "12_self_mm": ("06_neural_text", "09_early_late_fusion"),
    "13_robustness": ("10_tensor_fusion", "11_attention_fusion", "12_self_mm"),
    "14_applications": ("10_tensor_fusion", "12_self_mm"),
    "15_chinese": ("06_neural_text", "09_early_late_fusion"),
}


@dataclass(frozen=True)
class Rates:
    """The assumptions behind the student-time estimate (minutes are a student's, not the CPU's)."""

    words_per_minute: float = 150.0      # technical prose with formulas, read to be understood
    minutes_per_code_cell: float = 1.0   # run a cell shown on the page and read its output
    minutes_per_code_line: float = 0.1   # and read its code: 10 lines a minute
    minutes_per_figure: float = 1.0      # a figure or a table to look at
    minutes_per_exercise: float = 15.0   # try it before opening the solution
    lab_minutes: float = 120.0           # one lab session
    lab_exercises: int = 2               # exercises a lab leaves time for
    week_minutes: float = 240.0          # a semester week: a 2-hour lab and 2 hours of own study
    semester_weeks: int = 14


RATES = Rates()
_HIDDEN = {"remove-cell", "remove-input", "hide-input"}   # code a reader does not read


def repo_root(root: str | Path | None = None) -> Path:
    """The book's repository (the folder with ``_toc.yml``): ``root``, else the one holding this package."""
    path = Path(root) if root is not None else Path(__file__).resolve().parent.parent
    if not (path / "_toc.yml").exists():
        raise ConfigError(f"no _toc.yml in {path}: pass the book's repository folder (root=...)")
    return path


def toc_parts(root: str | Path | None = None) -> list[tuple[str, list[str]]]:
    """(caption, chapter files) of every numbered part of ``_toc.yml``, in book order."""
    import yaml

    toc = yaml.safe_load((repo_root(root) / "_toc.yml").read_text(encoding="utf-8"))
    return [(part.get("caption", ""), [ch["file"] for ch in part.get("chapters", [])])
            for part in toc.get("parts", []) if part.get("numbered")]


def toc_chapters(root: str | Path | None = None) -> list[str]:
    """The chapter files of ``_toc.yml`` (numbered parts), e.g. ``notebooks/01_what_is_msa``."""
    return [f for _, files in toc_parts(root) for f in files]


def chapter_paths(root: str | Path | None = None) -> list[Path]:
    """The notebook of every chapter of ``_toc.yml``, in book order."""
    base = repo_root(root)
    paths = [base / f"{f}.ipynb" for f in toc_chapters(root)]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ConfigError(f"chapters of _toc.yml without a notebook: {missing}")
    return paths


def prerequisite_problems(chapters: list[str]) -> list[str]:
    """What is wrong with :data:`PREREQUISITES` for these chapter names, in book order (empty: nothing)."""
    problems, seen = [], set()
    for name in chapters:
        if name not in PREREQUISITES:
            problems.append(f"{name} is in _toc.yml but not in curriculum.PREREQUISITES")
        for dep in PREREQUISITES.get(name, ()):
            if dep not in seen:
                problems.append(f"{name} needs {dep}, which does not come before it in _toc.yml")
        seen.add(name)
    return problems


def all_prerequisites(name: str) -> set[str]:
    """Every chapter ``name`` builds on, directly or through another chapter."""
    found, todo = set(), list(PREREQUISITES.get(name, ()))
    while todo:
        dep = todo.pop()
        if dep not in found:
            found.add(dep)
            todo.extend(PREREQUISITES.get(dep, ()))
    return found


def direct_prerequisites(name: str) -> list[str]:
    """The prerequisites of ``name`` that no other prerequisite of it already needs (the map's arrows)."""
    deps = PREREQUISITES.get(name, ())
    return [d for d in deps if not any(d in all_prerequisites(o) for o in deps if o != d)]


def _cells(nb: dict, kind: str) -> list[str]:
    from .exercises import cell_text

    return [cell_text(c) for c in nb["cells"] if c["cell_type"] == kind]


def chapter_title(nb: dict) -> str:
    """The text of the notebook's title (its one level-1 heading)."""
    for text in _cells(nb, "markdown"):
        match = re.search(r"^# (.+)$", text, flags=re.M)
        if match:
            return match.group(1).strip()
    raise ConfigError("the notebook has no '# ' title")


def prose_words(markdown: str) -> int:
    """Words a reader reads in a markdown text: code blocks, directive options and labels left out."""
    text = re.sub(r"^(`{3,}|~{3,})(?!\{)[^\n]*\n.*?^\1\s*$", " ", markdown, flags=re.M | re.S)
    text = re.sub(r"^\s*:\w[\w-]*:.*$", " ", text, flags=re.M)          # :name: fig-x, :class: dropdown
    text = re.sub(r"^\(.+\)=\s*$", " ", text, flags=re.M)                # (ch-label)=
    text = re.sub(r"\{glue:\w+\}`[^`]+`", "N", text)                     # a glued number reads as one word
    text = re.sub(r"[`*_#|>\[\]{}()]", " ", text)
    return len(re.findall(r"[^\W\d_][\w'-]*|\d[\d.,]*", text))


def exercise_count(markdown: str) -> int:
    """The numbered items of the ``## Exercises`` section (0 without one)."""
    match = re.search(r"^## Exercises\s*$(.*?)(?=^## |\Z)", markdown, flags=re.M | re.S)
    return len(re.findall(r"^(?:\*\*)?\d+\.\s", match.group(1), flags=re.M)) if match else 0


def notebook_stats(nb: dict) -> dict:
    """Words of prose (solutions left out), visible code cells and lines, figures/tables, exercises."""
    from .exercises import cell_text, is_solution_cell, split_solutions

    markdown = "\n\n".join(_cells(nb, "markdown"))
    prose, _ = split_solutions(markdown)
    shown = [c for c in nb["cells"] if c["cell_type"] == "code" and not is_solution_cell(c)
             and not _HIDDEN & set(c.get("metadata", {}).get("tags", []))]
    outputs_only = [c for c in nb["cells"] if c["cell_type"] == "code"
                    and {"remove-input", "hide-input"} & set(c.get("metadata", {}).get("tags", []))]
    figures = len(re.findall(r"^`{3,}\{glue:figure\}", markdown, flags=re.M))
    return {"words": prose_words(prose), "code cells": len(shown),
            "code lines": sum(len([x for x in cell_text(c).splitlines() if x.strip()]) for c in shown),
            "figures and tables": figures + len(outputs_only), "exercises": exercise_count(prose)}


def student_minutes(stats: dict, rates: Rates = RATES) -> dict:
    """Minutes a student needs for a chapter, by activity, from :func:`notebook_stats`."""
    reading = stats["words"] / rates.words_per_minute + stats["figures and tables"] * rates.minutes_per_figure
    code = stats["code cells"] * rates.minutes_per_code_cell + stats["code lines"] * rates.minutes_per_code_line
    exercises = stats["exercises"] * rates.minutes_per_exercise
    return {"reading": reading, "code": code, "exercises": exercises, "total": reading + code + exercises}


def _readme_times(readme: Path) -> dict[str, float]:
    """Seconds per chapter number ("01") from the README's per-notebook table."""
    if not readme.exists():
        return {}
    rows = re.findall(r"^\|\s*(\d{2}) [^|]*\|\s*([\d.]+)\s*\|\s*$", readme.read_text(encoding="utf-8"),
                      flags=re.M)
    return {num: float(sec) for num, sec in rows}


def _timer_times(path: Path) -> dict[str, float]:
    """Seconds per notebook name from ``_build/notebook_times.txt`` (tests/notebook_timer.py)."""
    if not path.exists():
        return {}
    rows = re.findall(r"^(\S+\.ipynb)\s+([\d.]+)\s+ok\s*$", path.read_text(encoding="utf-8"), flags=re.M)
    return {Path(nb).stem: float(sec) for nb, sec in rows}


def measured_seconds(root: str | Path | None = None) -> dict[str, tuple[float | None, str]]:
    """CPU seconds of each chapter's notebook and where the number comes from.

    ``_build/notebook_times.txt`` (this machine's last ``make notebooks``) where it
    has the chapter, else the README's run-time table (the reference machine),
    else ``(None, "not measured")``.
    """
    base = repo_root(root)
    timer = _timer_times(base / "_build" / "notebook_times.txt")
    readme = _readme_times(base / "README.md")
    out = {}
    for f in toc_chapters(root):
        name = Path(f).name
        if name in timer:
            out[name] = (timer[name], "_build/notebook_times.txt")
        elif name[:2] in readme:
            out[name] = (readme[name[:2]], "README")
        else:
            out[name] = (None, "not measured")
    return out


def chapter_table(root: str | Path | None = None, rates: Rates = RATES):
    """One row per chapter: title, part, what it counts, student minutes, measured CPU seconds."""
    import pandas as pd

    rows, measured = [], measured_seconds(root)
    parts = {Path(f).name: caption for caption, files in toc_parts(root) for f in files}
    for number, path in enumerate(chapter_paths(root), start=1):
        nb = json.loads(path.read_text(encoding="utf-8"))
        stats = notebook_stats(nb)
        minutes = student_minutes(stats, rates)
        seconds, source = measured[path.stem]
        lab = minutes["reading"] + minutes["code"] + rates.lab_exercises * rates.minutes_per_exercise
        rows.append({"chapter": number, "name": path.stem, "title": chapter_title(nb),
                     "part": parts[path.stem], **stats,
                     **{f"{k} min": v for k, v in minutes.items()},
                     "lab min": lab, "fits a lab": lab <= rates.lab_minutes,
                     "needs": [n for n in PREREQUISITES.get(path.stem, ())],
                     "CPU s": seconds, "CPU source": source})
    return pd.DataFrame(rows).set_index("name")


def semester_plan(table, rates: Rates = RATES) -> list[dict]:
    """Weeks of a semester: chapters in book order, packed into weeks of ``rates.week_minutes``.

    A chapter longer than a week gets several weeks to itself; the weeks left
    of ``rates.semester_weeks`` go to a project on a real dataset.
    """
    weeks: list[dict] = []
    current: list[str] = []
    used = 0.0
    for name, row in table.iterrows():
        minutes = row["total min"]
        if current and used + minutes > rates.week_minutes:
            weeks.append({"chapters": current, "minutes": used})
            current, used = [], 0.0
        if minutes > rates.week_minutes:
            n = math.ceil(minutes / rates.week_minutes)
            weeks.extend({"chapters": [name], "minutes": minutes / n, "part of": (k + 1, n)} for k in range(n))
            continue
        current.append(name)
        used += minutes
    if current:
        weeks.append({"chapters": current, "minutes": used})
    return weeks


def short_label(number: int, title: str, width: int = 22) -> str:
    """``"12 Self-MM"``: the chapter number and the title up to its colon, ASCII only, wrapped."""
    head = title.split(":")[0].strip()
    head = "".join(ch for ch in head if ord(ch) < 128).strip() or f"Chapter {number}"
    return "\n".join(textwrap.wrap(f"{number} {head}", width=width))


def dependency_figure(table, width: float = 7.0):
    """The chapter dependency map: one row per part, an arrow from each direct prerequisite to its chapter.

    Arrows implied by others are left out (:func:`direct_prerequisites`): if 9
    needs 6 and 12 needs 9, no arrow goes from 6 to 12.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    parts = list(dict.fromkeys(table["part"]))
    per_row = max(table.groupby("part").size())
    pos, box_w, box_h, left = {}, 1.55, 0.62, 1.5
    gap = (width - left - 0.1) / per_row
    for r, part in enumerate(parts):
        names = list(table.index[table["part"] == part])
        for k, name in enumerate(names):
            pos[name] = (left + gap * (k + 0.5), -r * 1.05)
    fig, ax = plt.subplots(figsize=(width, 1.05 * len(parts) + 0.2))
    for r, part in enumerate(parts):
        ax.text(0.05, -r * 1.05, "\n".join(textwrap.wrap(part, 16)), ha="left", va="center",
                fontsize=9, style="italic", color="0.3")
    for name, (x, y) in pos.items():
        ax.add_patch(FancyBboxPatch((x - box_w / 2, y - box_h / 2), box_w, box_h, zorder=2,
                                    boxstyle="round,pad=0.02", fc="#e8eef7", ec="#4c72b0", lw=1))
        ax.text(x, y, short_label(table.at[name, "chapter"], table.at[name, "title"], 20),
                ha="center", va="center", fontsize=9, zorder=3)
    for name in pos:
        for dep in direct_prerequisites(name):
            if dep not in pos:
                continue
            (x0, y0), (x1, y1) = pos[dep], pos[name]
            if abs(y0 - y1) < 1e-9:       # same part: side to side, or under the boxes between them
                adjacent = abs(x1 - x0) < gap * 1.5
                start, end = ((x0 + box_w / 2, y0), (x1 - box_w / 2, y1)) if adjacent else \
                    ((x0, y0 - box_h / 2), (x1, y1 - box_h / 2))
                style = "arc3,rad=0" if adjacent else "arc3,rad=0.2"
            else:
                start, end, style = (x0, y0 - box_h / 2), (x1, y1 + box_h / 2), "arc3,rad=0"
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, color="0.35",
                                         lw=0.9, connectionstyle=style, shrinkA=1, shrinkB=1, zorder=1))
    ax.set_xlim(0, width)
    ax.set_ylim(-(len(parts) - 1) * 1.05 - 0.45, 0.45)
    ax.axis("off")
    fig.tight_layout(pad=0.1)
    return fig


def rates_table(rates: Rates = RATES):
    """The assumptions of the estimate, as a two-column table."""
    import pandas as pd

    return pd.DataFrame({"value": asdict(rates)})
