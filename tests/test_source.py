"""show_source: the package's code on a book page, highlighted, long lines wrapped instead of cut off."""
import inspect
import textwrap

from mmsa_helpers.models.classic import TfidfSVR
from mmsa_helpers.source import PAGE_WIDTH, show_source, source_html


def test_long_lines_wrap_with_a_hanging_indent_and_short_ones_stay_plain():
    code = textwrap.dedent(inspect.getsource(TfidfSVR.fit))
    long_lines = [line for line in code.splitlines() if len(line) > PAGE_WIDTH]
    html = source_html(TfidfSVR.fit)
    assert long_lines and html.count("text-indent:-") == len(long_lines)
    assert "white-space:pre-wrap" in html and 'class="highlight"' in html
    assert html.count("\n") == len(code.splitlines()) - len(long_lines)


def test_plain_text_is_the_dedented_source():
    assert repr(show_source(TfidfSVR.fit)).startswith("def fit(self")
    assert show_source(TfidfSVR.fit)._repr_html_() == source_html(TfidfSVR.fit)
