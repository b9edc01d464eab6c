"""What a served process loads at start-up is kept out of Python's cyclic collector, and
a sweep's batch is built without it.

A web process holds some 150,000 objects from its start-up (modules, models, URL
patterns, translation catalogues) until it ends. Each full collection of the oldest
generation walks all of them: in the middle of a request that took 150 ms, so one
dashboard in ten answered in 400 ms instead of 200. ``gc.freeze()`` moves them into a
permanent generation the collector skips; what requests allocate is collected as before.
A worker does the same when it starts.

A sweep's batch builds hundreds of thousands of small containers (rows read, forecasts,
their risk curves) that all live until the batch is stored, and are freed by their
reference counts after it. The collector would walk them again and again while they
grow, to find nothing: a third of a sweep's time with the risk forecast on.
"""

from __future__ import annotations

import contextlib
import gc

from django.urls import get_resolver


def freeze_loaded(*, urls: bool = True) -> int:
    """Collect what start-up left behind, freeze the rest and return how many objects
    the collector now skips. ``urls``: load the URL configuration first (it imports
    every view module), as a web process will."""
    if urls:
        get_resolver().url_patterns  # noqa: B018
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


@contextlib.contextmanager
def collector_paused():
    """Run the block without the cyclic collector (reference counting still frees what it
    drops). Cycles made meanwhile wait for the next collection after it. Nested or in
    several threads at once, the collector is back on when the outermost block that
    turned it off ends."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
