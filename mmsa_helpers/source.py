"""Show the package's own code on a book page (the chapters that introduce an idea show its source).

The package is written with lines of up to 120 characters; the book's content
column holds about 77 characters of code. :func:`show_source` highlights the
source of a class or function and lets lines wider than the page wrap, with a
hanging indent, instead of running off the page behind a scroll bar.
"""
from __future__ import annotations

import html
import inspect
import textwrap

#: characters of code that fit on one line of the book's content column (1280 px wide window)
PAGE_WIDTH = 77


def source_html(obj) -> str:
    """The highlighted source of ``obj`` as an HTML ``<pre>`` whose long lines wrap with a hanging indent."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    code = textwrap.dedent(inspect.getsource(obj))  # a method starts at column 0 too
    body = highlight(code, PythonLexer(), HtmlFormatter(nowrap=True))  # one self-contained line per line
    if len(body.splitlines()) != len(code.splitlines()):  # (never seen) fall back to one plain listing
        body = html.escape(code)
    lines = []
    for raw, line in zip(code.splitlines(), body.splitlines()):
        indent = len(raw) - len(raw.lstrip(" "))
        if len(raw) > PAGE_WIDTH:  # wraps: continuation lines start 4 characters right of the line's indent
            style = f"display:block;padding-left:{indent + 4}ch;text-indent:-{indent + 4}ch"
            lines.append(f'<span style="{style}">{line}</span>')
        else:
            lines.append(line + "\n")
    name = html.escape(getattr(obj, "__qualname__", str(obj)))
    return (f'<div class="highlight-python notranslate"><div class="highlight" aria-label="source of {name}">'
            f'<pre style="white-space:pre-wrap;overflow-wrap:anywhere">{"".join(lines)}</pre></div></div>')


class Source:
    """What :func:`show_source` returns: HTML in a notebook or web page, plain source elsewhere."""

    def __init__(self, obj):
        self.obj = obj

    def _repr_html_(self) -> str:
        return source_html(self.obj)

    def __repr__(self) -> str:
        return textwrap.dedent(inspect.getsource(self.obj))


def show_source(obj) -> Source:
    """The package's source of a class or function, highlighted, wrapped to the page width."""
    return Source(obj)
