"""Serve MathJax from the built site, so that math renders with no network.

Sphinx loads MathJax from a CDN by default; a reader who opens the book offline
would see raw TeX. This extension takes MathJax 3 from the ``django-static-mathjax``
package (installed from PyPI with the book's requirements; it is plain MathJax,
Apache-2.0), copies the parts the book uses into ``_static/mathjax`` of the built
site, and points Sphinx's ``mathjax_path`` at the local copy.
"""
from __future__ import annotations

import shutil
from pathlib import Path

#: The parts of MathJax's es5 bundle the pages load: TeX input with its
#: on-demand extensions, CommonHTML output with its fonts, and the menu.
PARTS = ("tex-chtml.js", "input/tex", "output/chtml", "ui", "a11y", "adaptors", "LICENSE")


def mathjax_source() -> Path:
    try:
        import mathjax  # the module of django-static-mathjax
    except ImportError as err:  # pragma: no cover - a clear message for a broken environment
        raise RuntimeError("offline math needs the package django-static-mathjax "
                           "(it is in requirements/book.txt): run `make venv`") from err
    root = Path(mathjax.__file__).resolve().parent / "static" / "mathjax"
    es5 = root / "es5"
    if not (es5 / "tex-chtml.js").is_file():
        raise RuntimeError(f"django-static-mathjax has no es5/tex-chtml.js under {root}")
    return es5


def _copy(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src, dst = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        s = src / part if part != "LICENSE" else src.parent / "LICENSE"
        d = dst / part
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        elif s.is_file():
            d.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(s, d)


def _use_local_copy(app, config) -> None:
    config.mathjax_path = "mathjax/tex-chtml.js"   # a relative path is served from _static


def setup(app):
    mathjax_source()  # fail early, with the fix, when the package is missing
    app.connect("config-inited", _use_local_copy, priority=900)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
