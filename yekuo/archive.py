"""Archive tables: old rows leave the hot tables and stay readable beside them.

A row that is finished with (a resolved deviation, a superseded proposal, a read
notification) and older than ``ARCHIVE_AFTER_DAYS`` is moved, with its id, into a table of
the same columns named ``<table>_archive``. Nothing is lost: the move is one
``INSERT … SELECT`` and one ``DELETE`` of the same ids in one transaction, so a row is in
exactly one of the two tables at every moment, and the reads that show history (the
application page, the deviation API, the admin) read both.

Why tables rather than PostgreSQL partitions: the embedded mode runs on SQLite, which has
no partitioning; Django's migrations cannot declare a partitioned table; and a partition
key (the month) would have to enter every primary key and unique constraint, including
"one open deviation per activity". The hot tables stay as they are, their partial indexes
small, and only the history reads pay for a second, indexed query.

This module knows no model: the owning apps declare their archive models with
:func:`archive_model` and move their rows with :func:`move`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models, transaction
from django.utils.functional import cached_property

from yekuo.lookups import any_of

ARCHIVE_SUFFIX = "_archive"


def archive_model(
    hot: type[models.Model],
    *,
    name: str,
    verbose_name,
    verbose_name_plural,
    indexed: Iterable[str] = (),
    unconstrained: Iterable[str] = (),
) -> type[models.Model]:
    """Return the model of ``hot``'s archive table: every column of ``hot``, same names
    and types, the id kept as it was (not generated again).

    A change to the hot model changes this one too, so ``makemigrations`` writes the
    archive's migration beside the hot table's. Relations keep their foreign keys (the
    rows they point at are never removed), except those named in ``unconstrained``,
    which point at rows that may be archived themselves (a proposal's deviation). Only the
    relations in ``indexed`` are indexed: the archive is read by them, and every other
    index would only slow the moves down. Unique constraints are left out: they guard
    what is live, and nothing archived is.
    """
    indexed, unconstrained = set(indexed), set(unconstrained)
    attrs: dict = {"__module__": hot.__module__}
    for field in hot._meta.concrete_fields:
        if field.primary_key:
            key = models.BigIntegerField(field.verbose_name, primary_key=True)
            key.creation_counter = field.creation_counter  # first, where the hot table has it
            attrs[field.name] = key
            continue
        # A copy, as Django copies the fields of an abstract model into each of its children.
        column = copy.deepcopy(field)
        _forget_cached(column)
        column.auto_now = column.auto_now_add = False
        column._unique = False
        column.db_index = field.name in indexed
        if field.is_relation:
            _forget_cached(column.remote_field)
            column.remote_field.related_name = column._related_name = "+"
            column.remote_field.related_query_name = None
            column.db_constraint = field.name not in unconstrained
        attrs[field.name] = column
    attrs["Meta"] = type(
        "Meta",
        (),
        {
            "db_table": hot._meta.db_table + ARCHIVE_SUFFIX,
            "verbose_name": verbose_name,
            "verbose_name_plural": verbose_name_plural,
        },
    )
    attrs["__str__"] = hot.__str__
    attrs["is_archived"] = True
    return type(name, (models.Model,), attrs)


def _forget_cached(thing) -> None:
    """Drop what ``thing`` computed for the hot model (its column, its accessor name)."""
    for name in list(vars(thing)):
        if isinstance(getattr(type(thing), name, None), cached_property):
            del vars(thing)[name]


def move(hot: type[models.Model], archive: type[models.Model], ids: Sequence[int]) -> int:
    """Move the rows ``ids`` of ``hot`` into ``archive``; return how many moved.

    Call inside a transaction: the copy and the removal are one change. An id already in
    the archive fails the copy (its primary key) and so the whole move, loudly.
    """
    ids = sorted(set(ids))
    if not ids:
        return 0
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in hot._meta.concrete_fields)
    pk = quote(hot._meta.pk.column)
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(archive._meta.db_table)} ({columns}) "
            f"SELECT {columns} FROM {quote(hot._meta.db_table)} WHERE {pk} IN ({marks})",
            ids,
        )
        cursor.execute(f"DELETE FROM {quote(hot._meta.db_table)} WHERE {pk} IN ({marks})", ids)
        return cursor.rowcount


def move_children(
    hot: type[models.Model], archive: type[models.Model], parent: str, parent_ids: Sequence[int]
) -> int:
    """Move the rows of ``hot`` whose ``parent`` (a foreign key's column, ``deviation_id``)
    is one of ``parent_ids`` into ``archive``; return how many moved. Call inside the
    transaction that moves the parents (``move_in_batches``'s ``along``)."""
    ids = list(hot.objects.filter(any_of(parent, parent_ids)).values_list("pk", flat=True))
    return move(hot, archive, ids)


def move_in_batches(
    hot: type[models.Model],
    archive: type[models.Model],
    eligible: Callable[[], models.QuerySet],
    *,
    batch_size: int,
    along: Callable[[list[int]], None] | None = None,
) -> int:
    """Move every row of ``eligible()`` (a queryset of ``hot``) into ``archive``, at most
    ``batch_size`` rows per transaction; return how many moved.

    Each batch selects its rows again (by their current state, locking them and skipping
    rows another transaction holds), so a run stopped halfway, or two runs at once, leave
    every row in exactly one table and a later run moves what remains. Batches walk the
    primary key upwards from where the last one stopped: each reads its own stretch of
    the table, never the rows the batches before it looked at, so a run is linear in the
    table's size. ``along`` moves the rows that must leave first (a deviation's
    proposals), inside the same transaction.
    """
    moved = 0
    after = None
    while True:
        with transaction.atomic():
            rows = eligible()
            if after is not None:
                rows = rows.filter(pk__gt=after)
            ids = list(
                rows.select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if along is not None:
                along(ids)
            moved += move(hot, archive, ids)
        if len(ids) < batch_size:
            return moved
        after = ids[-1]
