"""Lazy matplotlib (Agg) for the claims' figures."""

from __future__ import annotations


def plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as _plt

    return _plt
