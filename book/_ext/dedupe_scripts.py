"""Add each script to a page once.

sphinx-thebe registers its inline configuration script (``const THEBE_JS_URL = ...``)
every time Sphinx reads the sources, and Jupyter Book reads them twice, so every
page declared the constant twice and the browser reported a SyntaxError. This
extension drops exact duplicates from each page's script list.
"""
from __future__ import annotations


def _dedupe(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        key = (str(js), tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
