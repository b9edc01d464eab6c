"""What a served process loads at start-up is kept out of Python's cyclic collector.

A web process holds some 150,000 objects from its start-up (modules, models, URL
patterns, translation catalogues) until it ends. Each full collection of the oldest
generation walks all of them: in the middle of a request that took 150 ms, so one
dashboard in ten answered in 400 ms instead of 200. ``gc.freeze()`` moves them into a
permanent generation the collector skips; what requests allocate is collected as before.
"""

from __future__ import annotations

import gc

from django.urls import get_resolver


def freeze_loaded() -> int:
    """Collect what start-up left behind, freeze the rest and return how many objects
    the collector now skips."""
    # The URL configuration imports every view module: loaded now, frozen with the rest.
    get_resolver().url_patterns  # noqa: B018
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
