"""Add each script to a page once.

sphinx-thebe (and sphinx-togglebutton) register their inline configuration
scripts more than once in a Jupyter Book build, with different priorities, so
every page declared ``const THEBE_JS_URL`` twice and the browser reported a
SyntaxError. This extension keeps the first copy of each script (same file or
same inline body, same attributes) on every page.
"""
from __future__ import annotations


def _dedupe(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        # the same script registered twice may carry two priorities
        # (and an inline script's filename may be None or ""): compare what it loads
        key = (str(getattr(js, "filename", js) or ""),
               tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
