"""Tick labels for log axes that span about one decade (Chapter 6's band fits)."""

from matplotlib.ticker import FuncFormatter


def _one_two_five(v, _pos=None) -> str:
    """The label of a tick at v: plain decimals at 1, 2 and 5 times a power of ten, else none."""
    return f"{v:g}" if v > 0 and f"{v:.0e}"[0] in "125" else ""


def plain_log_ticks(ax, axis: str = "y"):
    """Label the major and minor ticks of a log axis of ``ax`` at 1, 2 and 5 times a power of ten
    with plain decimals (0.02, 0.05, 0.1, 1, 2): a log axis spanning about one decade otherwise
    shows one label or none. ``axis`` is "x" or "y". Returns ``ax``."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    fmt = FuncFormatter(_one_two_five)
    target.set_major_formatter(fmt)
    target.set_minor_formatter(fmt)
    return ax
