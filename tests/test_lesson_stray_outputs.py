"""No lesson shows a stray object repr (e.g. ``<matplotlib.legend.Legend at 0x7f...>``): a cell
whose last line returns a matplotlib or other object by accident prints its repr on the website,
and MyST-NB then treats the cell as having two outputs (a figure's caption can appear twice and
shift the figure numbers of the chapter)."""

import json
import re

import pytest
import test_lesson_style

LESSONS = test_lesson_style.LESSONS + test_lesson_style.CHECKS   # chapters, then checks pages
REPR = re.compile(r"^<[\w.]+(?: object)? at 0x[0-9a-f]+>$")


def stray_reprs(nb) -> list[str]:
    """The outputs that are nothing but an object's default repr, as 'cell k: repr'."""
    found = []
    for k, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = "".join(data.get("text/plain", "")).strip()
            if set(data) == {"text/plain"} and REPR.match(text):
                found.append(f"cell {k}: {text}")
    return found


def test_the_check_finds_a_stray_legend():
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "execute_result",
         "data": {"text/plain": "<matplotlib.legend.Legend at 0x7fc40a400250>"}},
        {"output_type": "display_data",
         "data": {"text/plain": "<Figure size 650x300 with 1 Axes>", "image/png": "iVBOR"}}]}]}
    assert stray_reprs(nb) == ["cell 0: <matplotlib.legend.Legend at 0x7fc40a400250>"]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_no_stray_object_repr(path):
    assert stray_reprs(json.loads(path.read_text())) == [], \
        "end the cell with `_ = ...` or `;` so that only the figure or table is shown"
