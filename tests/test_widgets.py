"""interactive_figure: the widget's image carries its alt text and follows the controls.

Outside a kernel an Output widget records nothing, so ``display`` is replaced by a recorder;
the browser checks (tests/test_site.py, tests/test_jupyterlab.py) see the real thing.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from ipywidgets import IntSlider

from overparam import widgets
from overparam.widgets import interactive_figure


@pytest.fixture
def shown(monkeypatch):
    """Every HTML string the widgets display, in order."""
    record: list[str] = []
    monkeypatch.setattr(widgets, "display", lambda obj: record.append(obj.data))
    return record


def _draw(k):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot(range(5), [i ** k for i in range(5)])
    return fig


def _img(html: str) -> tuple[str, str]:
    """(src, alt) of the one <img> in ``html``."""
    assert html.count("<img") == 1, html[:200]
    return (re.search(r'src="([^"]*)"', html).group(1), re.search(r'alt="([^"]*)"', html).group(1))


@pytest.mark.parametrize("alt", [None, "", "   ", 3])
def test_alt_is_required(alt):
    kwargs = {} if alt is None else {"alt": alt}
    with pytest.raises((TypeError, ValueError), match="alt"):
        interactive_figure(_draw, k=IntSlider(value=1, min=1, max=3), **kwargs)


def test_image_has_alt_and_follows_the_control(shown):
    slider = IntSlider(value=1, min=1, max=3)
    interactive_figure(_draw, alt=lambda k: f"Power {k} <of> i", k=slider)
    assert len(shown) == 1
    src1, alt1 = _img(shown[-1])
    assert src1.startswith("data:image/png;base64,")
    assert alt1 == "Power 1 &lt;of&gt; i"          # escaped: the alt cannot break the tag
    slider.value = 3
    assert len(shown) == 2
    src3, alt3 = _img(shown[-1])
    assert alt3 == "Power 3 &lt;of&gt; i"
    assert src3 != src1                             # the figure itself was redrawn


def test_fixed_alt_string(shown):
    interactive_figure(_draw, alt='A curve "rising".', k=IntSlider(value=2, min=1, max=3))
    assert _img(shown[-1])[1] == "A curve &quot;rising&quot;."
    assert not plt.get_fignums()                    # the figure was closed after rendering


def test_interactive_figure_has_a_short_plain_text_form():
    """A notebook stores the widget's text/plain beside its view: one line, well under 100
    characters, naming the controls (ipywidgets' own repr is cut at 111 characters)."""
    import ipywidgets as W

    from overparam.widgets import InteractiveFigure, interactive_figure

    box = interactive_figure(lambda n, d: plt.figure(), alt="a figure",
                             n=W.IntSlider(value=3, min=1, max=5), d=W.IntSlider(value=2))
    plt.close("all")
    text = box._repr_mimebundle_()["text/plain"]
    assert isinstance(box, InteractiveFigure) and isinstance(box, W.VBox)
    assert text == "InteractiveFigure(controls: n, d)"
