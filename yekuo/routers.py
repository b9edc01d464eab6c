"""Reads of the dashboards and the API from a read replica, writes and their reads from the
primary.

With ``DATABASE_REPLICA_URL`` set, the database alias ``replica`` is a streaming replica of
``default`` (PostgreSQL's hot standby). The pages and API answers that only read and
tolerate a replica's lag of a fraction of a second (``REPLICA_READ_PATHS``, GET and HEAD
only: the supervisors' dashboard and the API's lists and details) send their queries there,
and PostgreSQL's primary keeps its CPU for the writes and the sweep.

Read-your-writes: inside one request, the first write (anything Django routes as a write:
``save()``, ``update()``, ``select_for_update()``, a bulk insert) sends every later read of
that request to ``default``, and so does an open transaction: what a request wrote, it
reads back. The session and the signed-in user are read on ``default`` before the request
is marked, so that a login just made is never looked for on a replica that lags it.
Everything outside such a request (other pages, POSTs, tasks, commands) uses ``default``.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
READING_METHODS = ("GET", "HEAD")


@dataclass
class _Reads:
    """The replica reads of one request: allowed until its first write."""

    wrote: bool = False


_reads: contextvars.ContextVar[_Reads | None] = contextvars.ContextVar(
    "yekuo_replica_reads", default=None
)


def replica_enabled() -> bool:
    return settings.REPLICA_READS and REPLICA in settings.DATABASES


def may_read_replica(request) -> bool:
    """Whether ``request`` is one whose reads may go to the replica."""
    return request.method in READING_METHODS and request.path.startswith(
        tuple(settings.REPLICA_READ_PATHS)
    )


class ReplicaReadsMiddleware:
    """Lets the reads of a dashboard or API GET go to the replica (see the module)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not (replica_enabled() and may_read_replica(request)):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None:
            # The session and the user from the primary: a login just made is there.
            user.is_authenticated  # noqa: B018 - evaluates the lazy user now
        token = _reads.set(_Reads())
        try:
            return self.get_response(request)
        finally:
            _reads.reset(token)


class ReplicaRouter:
    """Routes reads to ``replica`` inside the requests :class:`ReplicaReadsMiddleware`
    marks, until they write; everything else to ``default``."""

    def db_for_read(self, model, **hints):
        reads = _reads.get()
        if reads is None:
            return None
        if reads.wrote or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            # Explicitly the primary: left to Django, a related object of a row read on
            # the replica would be read there too.
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model, **hints):
        reads = _reads.get()
        if reads is not None:
            reads.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same rows: a replica is a copy of the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica receives the schema from the primary, never from migrate.
        return db == DEFAULT_DB_ALIAS
