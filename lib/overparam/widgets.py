"""Interactive demos: thin ipywidgets layers over ``plots`` (every chapter's widget).

``interactive_figure(plot_fn, n=IntSlider(...), ...)`` returns a widget that redraws
``plot_fn(**values)`` whenever a control moves. The figure for the initial values is drawn at
once into the widget's Output, so the notebook's saved widget state holds it: on the static
website the widget renders (once) showing that figure, its controls frozen, which is the
static fallback; in Jupyter or Binder every control recomputes.
"""

from __future__ import annotations

import base64
import html
import io

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import HTML, display

STATIC_NOTE = ("On the website this figure shows the initial settings; run the lesson "
               "(Binder, Jupyter) to move the controls.")


def figure_html(fig: plt.Figure, alt: str) -> str:
    """``fig`` as an ``<img>`` (PNG inlined) whose alt text is ``alt``; closes ``fig``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            'style="max-width: 100%">')


def interactive_figure(plot_fn, *, alt, continuous_update: bool = False,
                       **controls) -> W.VBox:
    """A VBox of ``controls`` above an Output that shows ``plot_fn(**values)``.

    ``plot_fn`` draws with matplotlib (it may create its own figure and return it, or draw on
    the current one). ``controls`` maps each keyword of ``plot_fn`` to an ipywidgets control.
    ``alt`` describes the figure for a reader who cannot see it (screen reader, image not
    loaded): a string, or a function of the control values returning one.
    """
    if not (callable(alt) or (isinstance(alt, str) and alt.strip())):
        raise ValueError("interactive_figure needs alt=: a sentence saying what the figure shows "
                         "(or a function of the control values that returns one)")
    if not controls:
        raise ValueError("interactive_figure needs at least one control, e.g. n=IntSlider(...)")
    for name, c in controls.items():
        if not isinstance(c, W.ValueWidget):
            raise TypeError(f"control {name!r} must be an ipywidgets control (IntSlider, ...)")
        if hasattr(c, "continuous_update"):
            c.continuous_update = continuous_update
        c.style = {"description_width": "initial"}
    out = W.Output()

    def redraw(*_):
        values = {k: c.value for k, c in controls.items()}
        with out:
            out.clear_output(wait=True)
            fig = plot_fn(**values)
            fig = fig if isinstance(fig, plt.Figure) else plt.gcf()
            text = alt(**values) if callable(alt) else alt
            display(HTML(figure_html(fig, text)))

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    note = W.HTML(f"<small><i>{STATIC_NOTE}</i></small>")
    box = InteractiveFigure([W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap")),
                             out, note])
    box.control_names = tuple(controls)
    return box


class InteractiveFigure(W.VBox):
    """What ``interactive_figure`` returns: a ``VBox`` whose plain-text form is one short line,
    ``InteractiveFigure(controls: n, d)``, instead of ipywidgets' nested repr (cut at 111
    characters), so a lesson's stored text output stays within the page (every chapter)."""

    control_names: tuple = ()

    def __repr__(self) -> str:
        return f"InteractiveFigure(controls: {', '.join(self.control_names)})"
