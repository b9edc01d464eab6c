"""The audit trail is written by the database itself.

Triggers record every change of an audited row (who, when, which fields, before → after)
into one table, so that ``QuerySet.update()``, bulk writes and raw SQL are caught as well
as ``save()``. On PostgreSQL a PL/pgSQL function does it and append-only tables refuse
UPDATE and DELETE; in the embedded SQLite mode triggers of SQLite write the same rows.

Who: the request being served (or a task's named actor) is kept in a context variable.
On PostgreSQL it reaches the triggers as the session setting ``yekuo.actor``, set on the
connection just before a write when it differs from what the connection holds; on SQLite
the triggers call the function ``yekuo_actor()`` registered on each connection.

This module knows no model: the accounts app tells it which tables to watch.
"""

from __future__ import annotations

import contextvars
import weakref
from collections.abc import Iterable
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.db.backends.signals import connection_created

ACTOR_SETTING = "yekuo.actor"
WRITES = ("INSERT", "UPDATE", "DELETE")

_actor: contextvars.ContextVar = contextvars.ContextVar("yekuo_audit_actor", default=None)


def current_actor() -> int | None:
    """Return the id of the user whose request (or task) is writing, if any."""
    source = _actor.get()
    if source is None:
        return None
    if isinstance(source, int):
        return source
    user = getattr(source, "user", None)  # a request: its user is known once authenticated
    if user is not None and getattr(user, "is_authenticated", False):
        return user.pk
    return None


@contextmanager
def acting(source):
    """Attribute the writes inside to ``source``: a user id or a request."""
    token = _actor.set(source)
    try:
        yield
    finally:
        _actor.reset(token)


class AuditActorMiddleware:
    """Attributes the request's writes to its user (resolved at the first write, so that
    an API token authenticated inside the view counts too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with acting(request):
            return self.get_response(request)


# --- Telling PostgreSQL who writes ----------------------------------------------------------

# What each raw connection was last told, so that the setting is sent only on a change.
_told: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tell_actor(execute, sql, params, many, context):
    if sql.lstrip()[:6].upper() in WRITES:
        raw = context["connection"].connection
        actor = current_actor()
        value = "" if actor is None else str(actor)
        try:
            known = _told.get(raw)
        except TypeError:  # a raw connection that cannot be weakly referenced
            known = None
        if known != value:
            # The raw cursor: the setting is not one of the request's own queries.
            context["cursor"].cursor.execute(
                "SELECT set_config(%s, %s, false)", [ACTOR_SETTING, value]
            )
            with suppress(TypeError):
                _told[raw] = value
    return execute(sql, params, many, context)


def _on_connection_created(sender, connection, **kwargs):
    if connection.vendor == "postgresql":
        if _tell_actor not in connection.execute_wrappers:
            connection.execute_wrappers.append(_tell_actor)
    elif connection.vendor == "sqlite":
        connection.connection.create_function("yekuo_actor", 0, current_actor, deterministic=False)


def connect() -> None:
    """Start telling the database who writes (called once, when the apps are ready)."""
    connection_created.connect(_on_connection_created, dispatch_uid="yekuo.audit.actor")


# --- The triggers -------------------------------------------------------------------------


@dataclass(frozen=True)
class Watched:
    """One audited table: its name, primary key and the columns whose changes count."""

    table: str
    pk: str
    columns: tuple[str, ...]
    secrets: tuple[str, ...] = ()  # recorded as changed, never with their values
    inserts: bool = False  # record new rows too (the links of roles and permissions)


def _quote(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def install(connection, *, log_table: str, watched: Iterable[Watched], append_only=()) -> None:
    """Create (or re-create) the audit triggers on every watched table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _install_postgresql(cursor, connection, log_table, list(watched), list(append_only))
        elif connection.vendor == "sqlite":
            _install_sqlite(cursor, connection, log_table, list(watched))


def _install_postgresql(cursor, connection, log_table, watched, append_only):
    log = _quote(connection, log_table)
    cursor.execute(
        f"""
        CREATE OR REPLACE FUNCTION yekuo_audit() RETURNS trigger AS $$
        DECLARE
            old_row jsonb := CASE WHEN TG_OP = 'INSERT' THEN '{{}}'::jsonb ELSE to_jsonb(OLD) END;
            new_row jsonb := CASE WHEN TG_OP = 'DELETE' THEN '{{}}'::jsonb ELSE to_jsonb(NEW) END;
            key_row jsonb := CASE WHEN TG_OP = 'INSERT' THEN new_row ELSE old_row END;
            changed jsonb := '{{}}'::jsonb;
            arg text;
            col text;
            actor text := nullif(current_setting('{ACTOR_SETTING}', true), '');
        BEGIN
            FOREACH arg IN ARRAY TG_ARGV[1:] LOOP
                col := ltrim(arg, '!');
                IF TG_OP <> 'UPDATE' OR (old_row -> col) IS DISTINCT FROM (new_row -> col) THEN
                    IF left(arg, 1) = '!' THEN  -- a secret: that it changed, not its value
                        changed := changed || jsonb_build_object(col, jsonb_build_array(
                            CASE WHEN old_row ? col THEN '***' END,
                            CASE WHEN new_row ? col THEN '***' END));
                    ELSE
                        changed := changed || jsonb_build_object(
                            col, jsonb_build_array(old_row -> col, new_row -> col));
                    END IF;
                END IF;
            END LOOP;
            IF changed <> '{{}}'::jsonb THEN
                INSERT INTO {log} (at, actor_id, table_name, row_id, action, changes)
                VALUES (now(), actor::bigint, TG_TABLE_NAME, key_row ->> TG_ARGV[0],
                        left(TG_OP, 1), changed);
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """
    )
    cursor.execute(
        """
        CREATE OR REPLACE FUNCTION yekuo_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'yekuo: % is append-only: rows are never changed or removed',
                TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql;
        """
    )
    for spec in watched:
        table = _quote(connection, spec.table)
        compared = (*spec.columns, *spec.secrets)
        distinct = " OR ".join(
            f"OLD.{_quote(connection, c)} IS DISTINCT FROM NEW.{_quote(connection, c)}"
            for c in compared
        )
        names = (spec.pk, *spec.columns, *(f"!{c}" for c in spec.secrets))
        args = ", ".join(f"'{name}'" for name in names)
        for event in ("insert", "update", "delete"):
            cursor.execute(f"DROP TRIGGER IF EXISTS yekuo_audit_{event} ON {table}")
        if distinct:
            cursor.execute(
                f"CREATE TRIGGER yekuo_audit_update AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({distinct}) EXECUTE FUNCTION yekuo_audit({args})"
            )
        cursor.execute(
            f"CREATE TRIGGER yekuo_audit_delete AFTER DELETE ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION yekuo_audit({args})"
        )
        if spec.inserts:
            cursor.execute(
                f"CREATE TRIGGER yekuo_audit_insert AFTER INSERT ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION yekuo_audit({args})"
            )
    for name in (log_table, *append_only):
        table = _quote(connection, name)
        cursor.execute(f"DROP TRIGGER IF EXISTS yekuo_append_only ON {table}")
        cursor.execute(
            f"CREATE TRIGGER yekuo_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION yekuo_append_only()"
        )


def _install_sqlite(cursor, connection, log_table, watched):
    # SQLite: updates, and new rows where asked (the test database is emptied with DELETE
    # between tests, so deletions are not recorded here).
    log = _quote(connection, log_table)
    insert_log = f"INSERT INTO {log} (at, actor_id, table_name, row_id, action, changes)"
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    for spec in watched:
        table = _quote(connection, spec.table)
        pk = _quote(connection, spec.pk)
        update_name = _quote(connection, f"yekuo_audit_{spec.table}")
        insert_name = _quote(connection, f"yekuo_audit_insert_{spec.table}")
        cursor.execute(f"DROP TRIGGER IF EXISTS {update_name}")
        cursor.execute(f"DROP TRIGGER IF EXISTS {insert_name}")
        members = []
        for c in (*spec.columns, *spec.secrets):
            q = _quote(connection, c)
            values = "'***', '***'" if c in spec.secrets else f"OLD.{q}, NEW.{q}"
            members.append(
                f"'{c}', json(CASE WHEN OLD.{q} IS NOT NEW.{q} THEN json_array({values}) END)"
            )
        # json_patch drops the members that are null: the fields that did not change.
        merged = f"json_patch('{{}}', json_object({', '.join(members)}))"
        compared = (*spec.columns, *spec.secrets)
        if compared:
            distinct = " OR ".join(
                f"OLD.{_quote(connection, c)} IS NOT NEW.{_quote(connection, c)}" for c in compared
            )
            cursor.execute(
                f"CREATE TRIGGER {update_name} AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN {distinct} BEGIN {insert_log} VALUES ({now}, yekuo_actor(), "
                f"'{spec.table}', CAST(OLD.{pk} AS TEXT), 'U', {merged}); END"
            )
        if spec.inserts:
            created = (
                "json_object("
                + ", ".join(
                    f"'{c}', json_array(NULL, NEW.{_quote(connection, c)})" for c in spec.columns
                )
                + ")"
            )
            cursor.execute(
                f"CREATE TRIGGER {insert_name} AFTER INSERT ON {table} FOR EACH ROW "
                f"BEGIN {insert_log} VALUES ({now}, yekuo_actor(), "
                f"'{spec.table}', CAST(NEW.{pk} AS TEXT), 'I', {created}); END"
            )
