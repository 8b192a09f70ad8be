"""The bibliography: every citation the book renders names one paper.

The book cites in author-year style (``bibtex_reference_style: author_year``), which labels a
paper by its authors' last names ("Du et al.") and the ``year`` field, as written. Two papers
with the same label would be cited alike in the text (e.g. Du et al.'s two-layer and deep
papers, both 2019), so such pairs carry a year suffix (2019a, 2019b).
"""

import re
from collections import defaultdict
from pathlib import Path

from pybtex.database import parse_file

BIB = Path(__file__).resolve().parents[1] / "book" / "references.bib"


def _label(entry) -> str:
    last = [p.last_names[0] for p in entry.persons["author"]]
    who = last[0] if len(last) == 1 else " and ".join(last) if len(last) == 2 else f"{last[0]} et al."
    return f"{who}, {entry.fields['year']}"


def test_every_author_year_label_names_one_paper():
    papers = defaultdict(list)
    for key, entry in parse_file(BIB).entries.items():
        papers[_label(entry)].append(key)
    shared = {label: keys for label, keys in papers.items() if len(keys) > 1}
    assert not shared, f"these papers would be cited alike; give their years a suffix: {shared}"


def test_year_suffixes_come_in_sequence():
    # a suffix only where it disambiguates, and a, b, ... without gaps for each label
    by_stem = defaultdict(list)
    for key, entry in parse_file(BIB).entries.items():
        m = re.fullmatch(r"(\d{4})([a-z]?)", entry.fields["year"])
        assert m, f"{key}: year {entry.fields['year']!r} is not a year with an optional suffix"
        by_stem[_label(entry).rsplit(", ", 1)[0] + m.group(1)].append(m.group(2))
    for stem, suffixes in by_stem.items():
        expected = [""] if len(suffixes) == 1 else [chr(ord("a") + i) for i in range(len(suffixes))]
        assert sorted(suffixes) == expected, f"{stem}: suffixes {sorted(suffixes)}"
