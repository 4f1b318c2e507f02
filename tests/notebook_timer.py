"""pytest plugin: per-notebook execution time of the nbval run (``make notebooks``).

Prints a table at the end of the run and writes it to ``_build/notebook_times.txt``.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

_times: dict[str, float] = defaultdict(float)
_failed: set[str] = set()


def pytest_runtest_logreport(report):
    notebook = report.nodeid.split("::")[0]
    if notebook.endswith(".ipynb"):
        _times[notebook] += report.duration
        if report.failed:
            _failed.add(notebook)


def pytest_terminal_summary(terminalreporter):
    if not _times:
        return
    lines = [f"{'notebook':45s} {'seconds':>8s}  status"]
    for nb, sec in sorted(_times.items()):
        lines.append(f"{nb:45s} {sec:8.1f}  {'FAILED' if nb in _failed else 'ok'}")
    lines.append(f"{'total':45s} {sum(_times.values()):8.1f}")
    terminalreporter.write_sep("=", "notebook execution times")
    for line in lines:
        terminalreporter.write_line(line)
    out = Path("_build/notebook_times.txt")
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
