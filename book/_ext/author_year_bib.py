"""Author-year labels in the bibliographies, to match the author-year citations in the text.

``bibtex_reference_style = author_year`` makes the citations in the text read
"Zadeh et al., 2017", but the lists at the end of each chapter took their labels
from pybtex's default ``alpha`` style ("ZCP+17"). This extension registers a pybtex
formatting style, ``author_year``, that is the ``unsrt`` entry format with
labels "Zadeh et al., 2017" (one author: "Hutto, 2014"; two: "Ekman and Friesen,
1978"; a, b, ... when two works share a label) and entries sorted by author and
year. ``_config.yml`` selects it with ``bibtex_default_style: author_year``.
"""
from __future__ import annotations

from collections import Counter
from string import ascii_lowercase

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting import BaseSortingStyle


def _last(person) -> str:
    """A person's last name(s) as plain text, with any LaTeX braces removed."""
    names = person.prelast_names + person.last_names
    return Text(" ".join(str(n) for n in names)).render_as("text").replace("{", "").replace("}", "")


def author_year_label(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    year = entry.fields.get("year", "n.d.")
    if not people:
        return f"{entry.fields.get('title', entry.key)[:20]}, {year}"
    if len(people) == 1:
        who = _last(people[0])
    elif len(people) == 2:
        who = f"{_last(people[0])} and {_last(people[1])}"
    else:
        who = f"{_last(people[0])} et al."
    return f"{who}, {year}"


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year_label(e) for e in entries]
        count, seen = Counter(labels), Counter()
        for label in labels:
            if count[label] > 1:  # "Zadeh et al., 2017a", "... 2017b"
                suffix = ascii_lowercase[seen[label]]
                seen[label] += 1
                label = label + suffix
            yield label


class FirstAuthorYearSorting(BaseSortingStyle):
    """By the first author's last name, then year, then title (the order of the labels)."""

    def sorting_key(self, entry):
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        first = _last(people[0]).lower() if people else ""
        return first, entry.fields.get("year", ""), entry.fields.get("title", "").lower()


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabelStyle
    default_sorting_style = FirstAuthorYearSorting


register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
