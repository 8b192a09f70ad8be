"""Interactive demos: thin ipywidgets layers over ``plots`` (every chapter's widget).

``interactive_figure(plot_fn, n=IntSlider(...), ...)`` returns a widget that redraws
``plot_fn(**values)`` whenever a control moves. The figure for the initial values is drawn at
once into the widget's Output, so the notebook's saved widget state holds it: on the static
website the widget renders (once) showing that figure, its controls frozen, which is the
static fallback; in Jupyter or Binder every control recomputes.
"""

from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt

STATIC_NOTE = ("On the website this figure shows the initial settings; run the lesson "
               "(Binder, Jupyter) to move the controls.")


def interactive_figure(plot_fn, *, continuous_update: bool = False, **controls) -> W.VBox:
    """A VBox of ``controls`` above an Output that shows ``plot_fn(**values)``.

    ``plot_fn`` draws with matplotlib (it may create its own figure and return it, or draw on
    the current one). ``controls`` maps each keyword of ``plot_fn`` to an ipywidgets control.
    """
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
            plt.show(fig)   # inline backend: captured into the Output, then closed

    for c in controls.values():
        c.observe(redraw, names="value")
    redraw()
    note = W.HTML(f"<small><i>{STATIC_NOTE}</i></small>")
    return W.VBox([W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap")), out,
                   note])
