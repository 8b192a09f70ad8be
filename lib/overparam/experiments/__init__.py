"""Experiments at the papers' scale, one call each (Chapter 6 onwards).

``figure1`` reproduces Figure 1 of Du et al. (2019); it is also a command line tool:
``python -m overparam.experiments.figure1 --help``. Submodules are imported on first use, so
that ``python -m`` runs them cleanly.
"""

__all__ = ["figure1", "Figure1Result", "smallest_width_that_trains"]


def __getattr__(name):
    if name in __all__:
        import importlib

        _module = importlib.import_module(".figure1", __name__)
        globals().update({k: getattr(_module, k) for k in __all__})
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
