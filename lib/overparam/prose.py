"""Numbers for the prose of the lessons.

The lessons glue their numbers into the text with MyST-NB. A power of ten reads as
$3.7 \\cdot 10^{16}$ in the text, not as the ``3.7e+16`` that Python's ``.2g`` format prints.
"""

from __future__ import annotations


def tex10(value: float, digits: int = 2):
    """``value`` as the LaTeX a * 10^k with ``digits`` significant digits, wrapped in
    ``IPython.display.Markdown`` for ``glue(...)`` and ``{glue:md}`` in the prose.
    The mantissa is rounded by Python's ``e`` format, so 9.97e5 at 2 digits is 1.0 * 10^6."""
    from IPython.display import Markdown

    if not digits >= 1:
        raise ValueError(f"digits must be >= 1, not {digits!r}")
    mant, exp = f"{float(value):.{digits - 1}e}".split("e")
    return Markdown(rf"${mant} \cdot 10^{{{int(exp)}}}$")
