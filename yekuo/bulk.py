"""Write many rows of a model in a few statements, whatever their number.

``bulk_create`` builds a model instance per row and prepares every value of every instance
through its field; ``bulk_update`` then sends a ``CASE`` with a branch per row for every
field, which the database tries branch by branch. For the deviation sweep, which writes tens
of thousands of rows on a day's first run, that cost more than computing them. These helpers
take plain tuples instead. On PostgreSQL the rows go in with ``COPY``, the server's bulk
loader, which parses a stream of rows: no statement per chunk of rows, and no array per
column to build and take apart (``INSERT ... SELECT FROM UNNEST`` took three to four times
as long for the 55,000 proposals of a 10,000-application sweep). Elsewhere (SQLite, in the
embedded mode) they fall back to the ORM or to plain multi-row statements.

A row holds the Python values of the named fields, as the model would hold them: numbers,
text (choices too), booleans, dates, aware datetimes, decimals, and for a ``JSONField`` its
Python value, serialised here with the field's encoder. ``None`` is NULL. A foreign key is
named by its field name or its attname (``"deviation"`` or ``"deviation_id"``, as
``Model._meta.get_field`` takes both) and given as the related row's primary key, never as
an instance: the caller has the ids at hand, and looking them up from instances would cost
what this module saves.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import nullcontext

from django.db import connection, connections, models, router, transaction
from django.db.models.constants import OnConflict


def insert_rows(
    model,
    fields: list[str],
    rows: list[tuple],
    *,
    returning: bool = False,
    ignore_conflicts: bool = False,
) -> list[int] | None:
    """Insert ``rows`` of ``model``, each a tuple of the values of ``fields``.

    The fields not named get what ``bulk_create`` would give them: their default, and the
    current time for ``auto_now``/``auto_now_add`` fields (read once for all the rows).

    With ``returning``, return the new rows' primary keys in the order of ``rows`` (the
    model needs an auto-incremented key). With ``ignore_conflicts``, a row that would break a
    unique constraint is skipped, as ``bulk_create(ignore_conflicts=True)`` does; with both,
    only the stored rows' keys come back, still in row order, which ``bulk_create`` cannot
    tell (it leaves every key unset).

    On PostgreSQL the keys are drawn first from the table's identity sequence, in one query,
    and copied with the rows: ``COPY`` itself returns nothing. A conflict cannot be skipped
    by ``COPY`` either, so with ``ignore_conflicts`` the rows are copied into a temporary
    table and moved with ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``.
    """
    if not rows:
        return [] if returning else None
    opts = model._meta
    given = [opts.get_field(name) for name in fields]
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return _insert_with_orm(model, given, rows, connection, returning, ignore_conflicts)
    rest = _unnamed_values(model, given)
    columns = [*given, *rest]
    tail = tuple(rest.values())
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        ids = None
        if returning:
            # The sequence is looked up once (materialized): in the select list, the lookup
            # of the catalog ran once per row, and cost ten times the keys themselves.
            cursor.execute(
                "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
                "SELECT nextval(s.seq) FROM s, generate_series(1, %s)",
                [quote(opts.db_table), opts.pk.column, len(rows)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            columns = [opts.pk, *columns]
            data = ((pk, *row, *tail) for pk, row in zip(ids, rows, strict=True))
        else:
            data = ((*row, *tail) for row in rows) if tail else rows
        if not ignore_conflicts:
            _copy(cursor, opts.db_table, columns, data)
            return ids
        staging = _staging_table(cursor, opts, columns)
        _copy(cursor, staging, columns, data)
        names = ", ".join(quote(f.column) for f in columns)
        cursor.execute(
            f"INSERT INTO {quote(opts.db_table)} ({names}) SELECT {names} FROM {quote(staging)} "
            f"ON CONFLICT DO NOTHING" + (f" RETURNING {quote(opts.pk.column)}" if returning else "")
        )
        if not returning:
            return None
        stored = {pk for (pk,) in cursor.fetchall()}
        return [pk for pk in ids if pk in stored]


def update_rows(
    model, fields: list[str], rows: list[tuple], *, where_null: tuple[str, ...] = ()
) -> None:
    """Set ``fields`` of many rows of ``model``, each row given as (pk, *values).

    A row whose field named in ``where_null`` holds a value is left as it is: a writer that
    took the rows meanwhile keeps what it wrote (SQLite ignores row locks).

    ``QuerySet.bulk_update`` builds, through the ORM, a ``CASE`` with a branch per row for
    every field, which the database then tries branch by branch: once a day has passed and
    most forecasts have moved, that cost seconds a batch, more than all the rest of it.
    Here one statement joins the table to the new values. On PostgreSQL they are copied into
    a temporary table first: for 8,000 to 60,000 rows that took a fifth to a quarter less
    time than joining to ``UNNEST`` of one array per column (the update itself takes most of
    it; below a thousand rows both take the same). Elsewhere the join is to a ``VALUES``
    list per chunk of the database's parameter limit.
    """
    if not rows:
        return
    opts = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    columns = [opts.get_field(name) for name in fields]
    table, pk = quote(opts.db_table), quote(opts.pk.column)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns)
    unset = "".join(
        f" AND {table}.{quote(opts.get_field(name).column)} IS NULL" for name in where_null
    )
    if connection.vendor == "postgresql":
        with (
            transaction.atomic(using=connection.alias, savepoint=False),
            connection.cursor() as cursor,
        ):
            staging = _staging_table(cursor, opts, [opts.pk, *columns])
            _copy(cursor, staging, [opts.pk, *columns], rows)
            # The range repeats what the join says, for the planner: the temporary table has
            # no statistics, and without them it hashes the whole target table to join a
            # batch of rows, a scan per batch that grows with the table (with 160,000
            # activities, 150 of the 240 ms of joining a batch of 17,000 forecasts). With
            # the range it reads the key's index for the batch's part of the table only.
            keys = [row[0] for row in rows]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {quote(staging)} AS v "
                f"WHERE {table}.{pk} = v.{pk} AND {table}.{pk} BETWEEN %s AND %s{unset}",
                [min(keys), max(keys)],
            )
        return
    names = ", ".join(quote(c) for c in ["id", *(f.column for f in columns)])
    with connection.cursor() as cursor:
        for values, params in _value_lists(connection, columns, rows):
            cursor.execute(
                f"WITH v ({names}) AS (VALUES {values}) "
                f"UPDATE {table} SET {assignments} FROM v "
                f"WHERE {table}.{pk} = v.{quote('id')}{unset}",
                params,
            )


def upsert_rows(model, fields: list[str], rows: list[tuple]) -> None:
    """Store many rows of ``model``, each given as (pk, *values of ``fields``): a row whose
    key is new is inserted (the fields not named get what ``insert_rows`` gives them), one
    whose key is stored has ``fields`` set. One statement for all the rows on PostgreSQL
    (copied into a temporary table first, as ``update_rows`` does), one per chunk of the
    parameter limit elsewhere; both ``INSERT ... ON CONFLICT (pk) DO UPDATE``.

    For rows derived one to one from another table's (an application's risk forecast),
    where the caller does not know, and need not ask, which keys are stored already.
    Each key at most once per call (PostgreSQL refuses to set one row twice in one
    statement, SQLite would keep the last): a repeated key raises ``ValueError`` before
    anything is written. With no ``fields``, a stored key is left as it is.
    """
    if not rows:
        return
    keys = {row[0] for row in rows}
    if len(keys) != len(rows):
        raise ValueError(f"upsert_rows of {model.__name__}: a key is given more than once")
    opts = model._meta
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    given = [opts.get_field(name) for name in fields]
    rest = _unnamed_values(model, given)
    columns = [opts.pk, *given, *rest]
    tail = tuple(rest.values())
    names = ", ".join(quote(f.column) for f in columns)
    table = quote(opts.db_table)
    conflict = (
        f"ON CONFLICT ({quote(opts.pk.column)}) DO UPDATE SET "
        + ", ".join(f"{quote(f.column)} = excluded.{quote(f.column)}" for f in given)
        if given
        else f"ON CONFLICT ({quote(opts.pk.column)}) DO NOTHING"
    )
    if connection.vendor == "postgresql":
        with (
            transaction.atomic(using=connection.alias, savepoint=False),
            connection.cursor() as cursor,
        ):
            staging = _staging_table(cursor, opts, columns)
            _copy(cursor, staging, columns, ((*row, *tail) for row in rows) if tail else rows)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {quote(staging)} {conflict}"
            )
        return
    tail = tuple(f.get_db_prep_save(value, connection) for f, value in rest.items())
    with connection.cursor() as cursor:
        for values, params in _value_lists(connection, given, rows, tail):
            cursor.execute(f"INSERT INTO {table} ({names}) VALUES {values} {conflict}", params)


def _value_lists(connection, fields, rows: list[tuple], tail: tuple = ()):
    """Yield ``VALUES`` lists of ``rows`` (key, *values of ``fields``, then ``tail`` for
    every row) with their parameters, each list within the database's parameter limit
    (databases other than PostgreSQL)."""
    width = 1 + len(fields) + len(tail)
    size = max(1, connection.ops.bulk_batch_size([None] * width, rows))
    placeholder = "(" + ", ".join(["%s"] * width) + ")"
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        params = []
        for row in chunk:
            params.append(row[0])
            params.extend(
                f.get_db_prep_save(value, connection)
                for f, value in zip(fields, row[1:], strict=True)
            )
            params.extend(tail)
        yield ", ".join([placeholder] * len(chunk)), params


def _unnamed_values(model, given) -> dict:
    """Return {field: value} for the concrete fields not in ``given``, as ``bulk_create``
    would fill them in (a database default is left to the database)."""
    blank = model()
    return {
        field: field.pre_save(blank, True)
        for field in model._meta.concrete_fields
        if field not in given
        and not field.primary_key
        and not field.generated
        and not field.has_db_default()
    }


def _copy(cursor, table: str, columns, rows) -> None:
    """``COPY`` ``rows`` into ``columns`` of ``table`` (PostgreSQL, psycopg 3).

    Each column's type is given to the driver up front, so it formats every value by the
    column instead of looking at each value's Python type. The statement goes through
    Django's execute wrappers and query log like any other, so it is counted and timed
    where queries are (``assertNumQueries``, instrumentation).
    """
    connection = cursor.db
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(f.column) for f in columns)}) FROM STDIN"
    types = [_copy_type(f, connection) for f in columns]
    encoders = [
        (position, f.encoder)
        for position, f in enumerate(columns)
        if isinstance(f, models.JSONField)
    ]

    def execute(sql, params, many, context):
        connection.validate_no_broken_transaction()
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            copy.set_types(types)
            if not encoders:
                for row in rows:
                    copy.write_row(row)
                return
            for row in rows:
                row = list(row)
                for position, encoder in encoders:
                    if row[position] is not None:
                        row[position] = json.dumps(row[position], cls=encoder)
                copy.write_row(row)

    debug = getattr(cursor, "debug_sql", None)
    with debug(sql) if debug else nullcontext():
        cursor._execute_with_wrappers(sql, None, many=False, executor=execute)


def _copy_type(field, connection) -> str:
    """Return the PostgreSQL type name the driver formats ``field``'s values as."""
    if isinstance(field, models.JSONField):
        # Serialised here with the field's encoder; the server parses the text as jsonb.
        return "text"
    # The driver knows types by name, without a length or precision ("varchar(20)").
    return re.sub(r"\(.*?\)", "", field.cast_db_type(connection)).strip()


def _staging_table(cursor, opts, columns) -> str:
    """Return the name of an empty temporary table shaped as ``columns`` of ``opts``' table.

    It is created once per database session (and named after its columns), emptied at each
    commit and, as an earlier call in the same transaction may have filled it, before each
    use: creating and dropping a table per call would write to the catalog every time.
    """
    connection = cursor.db
    quote = connection.ops.quote_name
    names = [f.column for f in columns]
    digest = hashlib.blake2b(repr((opts.db_table, names)).encode(), digest_size=4).hexdigest()
    name = f"bulk_{opts.db_table[:40]}_{digest}"
    # Two statements in one round trip: without parameters, psycopg sends the text as is.
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(name)} ON COMMIT DELETE ROWS AS "
        f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(opts.db_table)} WITH NO DATA; "
        f"TRUNCATE {quote(name)}"
    )
    return name


def _insert_with_orm(model, given, rows, connection, returning, ignore_conflicts):
    """Insert the rows through the ORM's insert (databases other than PostgreSQL).

    Raw, as ``loaddata`` saves: a value given for an ``auto_now`` field is stored as given,
    as ``COPY`` stores it (``bulk_create`` would replace it with the current time); the
    fields not named get :func:`_unnamed_values`. Keys grow in insertion order, which is row
    order; with ``ignore_conflicts`` only the stored rows' keys come back.
    """
    opts = model._meta
    rest = _unnamed_values(model, given)
    fields = [*given, *rest]
    attnames = [f.attname for f in fields]
    tail = tuple(rest.values())
    objs = [model(**dict(zip(attnames, (*row, *tail), strict=True))) for row in rows]
    queryset = model._base_manager.db_manager(connection.alias).get_queryset()
    size = max(1, connection.ops.bulk_batch_size(fields, objs))
    ids = []
    # All the statements or none, as with COPY (and bulk_create).
    with transaction.atomic(using=connection.alias, savepoint=False):
        for start in range(0, len(objs), size):
            stored = queryset._insert(
                objs[start : start + size],
                fields=fields,
                returning_fields=[opts.pk] if returning else None,
                raw=True,
                using=connection.alias,
                on_conflict=OnConflict.IGNORE if ignore_conflicts else None,
            )
            if returning:
                ids.extend(row[0] for row in stored if row is not None)
    if not returning:
        return None
    return sorted(ids) if ignore_conflicts else ids


def statistics_refresh(*models) -> None:
    """Have PostgreSQL sample these models' tables again for its planner (``ANALYZE``;
    elsewhere nothing), after a bulk load changed them wholesale.

    Autovacuum would, a while later; a job that runs at once would plan with the figures
    of the empty tables. After 1,000,000 demo applications the KPI snapshot, reading the
    active applications after the last chunk's key, sorted every one that remained for
    each chunk (333 ms a chunk instead of 1 ms). ANALYZE took 8 s at that size.
    """
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {quote(model._meta.db_table)}")


def constraints_checked_at_once() -> None:
    """Check the deferred constraints (Django's foreign keys) of the rest of this
    transaction when each statement ends instead of at the commit (PostgreSQL; elsewhere
    nothing). The same checks, earlier: a bulk load's commit then holds its last row locks
    only briefly."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _ready(field, value):
    """Return ``value`` of ``field`` as :class:`RowWriter` sends it to the database."""
    if isinstance(field, models.JSONField) and connection.vendor == "postgresql":
        # Serialised once, here: COPY's text format takes a jsonb column's JSON as text,
        # whereas the driver's JSON wrapper would serialise it again for every row (the
        # same template's predecessors go into every application's activities).
        return None if value is None else json.dumps(value, cls=field.encoder)
    return field.get_db_prep_save(value, connection)


class RowWriter:
    """Rows of one model, written from values ready for the database (a bulk load).

    For the tables with many rows per application (activities, progress records, the log):
    ``bulk_create`` prepares every field of every instance in Python, which takes several
    times longer than the database's insert. Here each value is prepared by its own field
    once (template data, dates: ``prepare``) and reused, and the rows go in with ``COPY``
    on PostgreSQL, with ``executemany`` elsewhere. Fields not given get their default.

    The app that owns ``model`` hands these out (its services' ``*_rows`` functions), so
    that a loader writes another app's rows only through that app.
    """

    def __init__(self, model, given: tuple[str, ...]) -> None:
        self.model = model
        meta = model._meta
        fields = [field for field in meta.concrete_fields if not field.primary_key]
        by_name = {field.name: field for field in fields} | {f.attname: f for f in fields}
        self.fields = [by_name[name] for name in given]
        rest = [field for field in fields if field not in self.fields]
        defaults = [field.get_default() for field in rest]
        for field, default in zip(rest, defaults, strict=True):
            if default is None and not field.null:
                raise ValueError(
                    f"a bulk load of {model.__name__} must give {field}: it has no default"
                )
        self.defaults = tuple(
            _ready(field, default) for field, default in zip(rest, defaults, strict=True)
        )
        quote = connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in [*self.fields, *rest])
        places = ", ".join(["%s"] * (len(self.fields) + len(rest)))
        self.sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({places})"
        self.copy_sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
        self.rows: list[tuple] = []

    def prepare(self, name: str, value):
        """Return ``value`` as the database takes it for the field ``name``."""
        field = next(field for field in self.fields if name in (field.name, field.attname))
        return _ready(field, value)

    def add(self, row: tuple) -> None:
        self.rows.append(row + self.defaults if self.defaults else row)

    def write(self) -> None:
        if not self.rows:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY loads several times faster than one INSERT per row, even pipelined.
                with cursor.cursor.copy(self.copy_sql) as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                cursor.executemany(self.sql, self.rows)
        self.rows = []
