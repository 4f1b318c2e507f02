"""Give every image of the book a text alternative that says what it shows.

myst-nb writes a cell's output image as ``<sha256>.png`` and sets no ``alt``, so
the HTML writer falls back to the file name: a screen reader read out
"a3f9c0...png" for every figure of the book. This extension fills in the
``alt`` of each image that has none (or only a file name or hash), at the
doctree, from the best text the build has:

1. the caption of the figure the image sits in (``{glue:figure}`` and
   ``mystnb: figure: caption`` cell metadata both make one; numbering is added
   by the writer, the caption text is what the figure shows);
2. the notebook cell's metadata: ``mystnb: image: alt`` (myst-nb applies it
   itself) or a plain ``alt`` key;
3. failing both, the position: "Figure 2 output by cell 9 of chapter 8,
   Vision". Such an image also gets the class ``alt-from-position``, so that
   the site tests can still report it as a figure nobody described.

Images written by raw HTML outputs (an animation player, a pandas table) are not
docutils images and are not touched; tests/site checks them in the browser.
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath

from docutils import nodes

#: Class set on an image whose alt text only says where it comes from.
FALLBACK_CLASS = "alt-from-position"
MAX_ALT = 250
_FILE_LIKE = re.compile(r"[\w./\\-]*\.(png|jpe?g|gif|svg|webp|pdf|bmp)", re.I)
_HASH_LIKE = re.compile(r"[0-9a-f]{16,}", re.I)


def is_placeholder(alt: str | None, uri: str | None = None) -> bool:
    """True for an alt text that is missing, a file name or a hash: what a reader cannot use."""
    alt = (alt or "").strip()
    if not alt:
        return True
    if uri and (alt == uri or PurePosixPath(alt).name == PurePosixPath(uri).name):
        return True
    return bool(_FILE_LIKE.fullmatch(alt) or _HASH_LIKE.fullmatch(PurePosixPath(alt).stem))


def shorten(text: str, limit: int = MAX_ALT) -> str:
    """One line; a long caption is cut after its last sentence that fits in ``limit``, else after a word."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    ends = [m.start() + 1 for m in re.finditer(r"[.;:](\s|$)", text) if m.start() + 1 <= limit]
    if ends and ends[-1] >= 20:
        return text[:ends[-1]]
    return text[:limit - 1].rsplit(" ", 1)[0] + "…"


def _ancestor(node: nodes.Node, test) -> nodes.Element | None:
    node = node.parent
    while node is not None:
        if test(node):
            return node
        node = node.parent
    return None


def _caption_of(image: nodes.image) -> str:
    figure = _ancestor(image, lambda n: isinstance(n, nodes.figure))
    if figure is None:
        return ""
    captions = [c for c in figure.children if isinstance(c, nodes.caption)]
    return captions[0].astext() if captions else ""


def _cell_of(image: nodes.image) -> nodes.Element | None:
    return _ancestor(image, lambda n: isinstance(n, nodes.container) and "cell_metadata" in n.attributes)


def _metadata_alt(cell: nodes.Element | None) -> str:
    if cell is None:
        return ""
    meta = cell.get("cell_metadata") or {}
    mystnb = meta.get("mystnb") or {}
    for value in ((mystnb.get("image") or {}).get("alt"), meta.get("alt")):
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _where(app, docname: str) -> str:
    env = app.builder.env
    title = env.titles[docname].astext() if docname in env.titles else docname
    number = (getattr(env, "toc_secnumbers", {}).get(docname) or {}).get("")
    if number:
        return f"chapter {'.'.join(map(str, number))}, {title}"
    return f"“{title}”"


def add_alt_text(app, doctree: nodes.document, docname: str) -> None:
    count = 0
    for image in doctree.findall(nodes.image):
        count += 1
        if not is_placeholder(image.get("alt"), image.get("uri")):
            continue
        cell = _cell_of(image)
        alt = _caption_of(image) or _metadata_alt(cell)
        if not alt:
            cell_part = f" output by cell {cell['cell_index'] + 1}" if cell is not None and "cell_index" in cell else ""
            alt = f"Figure {count}{cell_part} of {_where(app, docname)}"
            image["classes"].append(FALLBACK_CLASS)
        image["alt"] = shorten(alt)


def setup(app):
    app.connect("doctree-resolved", add_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
