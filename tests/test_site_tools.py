"""The website's own tools without a build: the alt-text extension and the browser test's helpers."""
import sys
from pathlib import Path
from types import SimpleNamespace

from docutils import nodes

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "book" / "_ext"), str(ROOT / "tests" / "site")]
import figure_alt  # noqa: E402
import site_browser  # noqa: E402  (loads without Playwright: it is imported only to browse)


def test_placeholders_are_file_names_hashes_or_nothing():
    sha = "7e6858ace0433cfaa013fcb4dcd9057689adbe54e0f62055f6c7b5534315a239"
    for alt in (None, "", "  ", f"../_images/{sha}.png", f"{sha}.png", sha, "figure.svg"):
        assert figure_alt.is_placeholder(alt), alt
    assert figure_alt.is_placeholder("x.png", uri="build/x.png")
    for alt in ("Label distribution of the synthetic corpus", "Fig. 2: MAE against correlation"):
        assert not figure_alt.is_placeholder(alt, uri=f"{sha}.png"), alt


def test_long_captions_are_cut_after_a_sentence():
    assert figure_alt.shorten("  a  short\ncaption ") == "a short caption"
    long = "First sentence is here and it is long enough to count. " + "more words " * 40
    cut = figure_alt.shorten(long, limit=120)
    assert cut == "First sentence is here and it is long enough to count."
    assert len(figure_alt.shorten("word " * 100, limit=60)) <= 60


def _app(numbered=True):
    env = SimpleNamespace(titles={"notebooks/08_vision": nodes.title(text="Vision")},
                          toc_secnumbers={"notebooks/08_vision": {"": (8,)}} if numbered else {})
    return SimpleNamespace(builder=SimpleNamespace(env=env))


def test_alt_comes_from_the_caption_then_the_metadata_then_the_position():
    doc = nodes.document(None, None)
    captioned = nodes.image(uri="_images/aaaaaaaaaaaaaaaaaaaa.png")
    doc += nodes.figure("", captioned, nodes.caption(text="Eight faces, one per emotion."))
    described = nodes.image(uri="_images/bbbbbbbbbbbbbbbbbbbb.png")
    doc += nodes.container("", described, nb_element="cell_code", cell_index=4,
                           cell_metadata={"alt": "A face with raised cheeks"})
    bare = nodes.image(uri="_images/cccccccccccccccccccc.png")
    doc += nodes.container("", bare, nb_element="cell_code", cell_index=8, cell_metadata={})
    authored = nodes.image(uri="logo.png", alt="The book's logo")
    doc += authored
    figure_alt.add_alt_text(_app(), doc, "notebooks/08_vision")
    assert captioned["alt"] == "Eight faces, one per emotion."
    assert described["alt"] == "A face with raised cheeks"
    assert bare["alt"] == "Figure 3 output by cell 9 of chapter 8, Vision"
    assert figure_alt.FALLBACK_CLASS in bare["classes"] and not captioned["classes"]
    assert authored["alt"] == "The book's logo"
    assert site_browser.ALT_FROM_POSITION == figure_alt.FALLBACK_CLASS


def test_the_browser_report_lists_pages_in_order_then_counts():
    P = site_browser.Problem
    text = site_browser.report([P("b", "wide", "table 900px"), P("a", "console", "boom"), P("b", "raw-tex", "$$")],
                               ["a", "b", "c"])
    lines = text.splitlines()
    assert lines[0].startswith("a  (1 problem)") and lines[2].startswith("b  (2 problems)")
    assert lines[-1] == "3 problems on 2 of 3 pages: console 1, raw-tex 1, wide 1"
    assert site_browser.report([], ["a"]) == "0 problems on 0 of 1 pages"


def test_chromium_is_looked_up_from_the_environment_first(tmp_path, monkeypatch):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    assert site_browser.find_chromium() == str(fake)


def test_every_toc_page_is_listed_for_the_browser():
    pages = site_browser.toc_pages()
    assert pages[0] == "book/preface" and "notebooks/07_speech" in pages and len(pages) == len(set(pages))


def test_api_page_leaves_out_docstrings_inherited_from_pytorch():
    import own_docstrings
    from mmsa_helpers.models.fusion import LMF, LateAverage
    from mmsa_helpers.models.self_mm import SelfMMNet

    skip = own_docstrings.skip_foreign_docstring
    # forward without a docstring of its own: PyTorch's text would be shown
    assert skip(None, "class", "forward", LMF.forward, False, {}) is True
    # inherited from the package's own Trainer hooks: kept
    assert skip(None, "class", "validation_step", LateAverage.validation_step, False, {}) is None
    assert skip(None, "class", "training_step", SelfMMNet.training_step, False, {}) is None
    # a documented method, and a module-level member, are left to autodoc
    from mmsa_helpers.corpus import Corpus
    assert Corpus.labels.__doc__
    assert skip(None, "class", "labels", Corpus.labels, False, {}) is None
    assert skip(None, "module", "LMF", LMF, False, {}) is None
