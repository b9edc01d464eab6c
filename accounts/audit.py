"""Which rows the database audits (settings ``AUDITED_MODELS`` …) and reading the trail."""

from functools import cache

from django.apps import apps
from django.conf import settings
from django.db import connections

from yekuo import audit

from .models import ChangeRecord


def watched_tables() -> list[audit.Watched]:
    """Return the audited tables with the columns whose changes are recorded."""
    found = []
    for label, options in settings.AUDITED_MODELS.items():
        model = apps.get_model(label)
        leave_out = set(options.get("exclude", ()))
        secrets = tuple(options.get("secrets", ()))
        columns = tuple(
            field.column
            for field in model._meta.concrete_fields
            if not field.primary_key
            and field.name not in leave_out
            and field.column not in leave_out
            and field.name not in secrets
        )
        found.append(
            audit.Watched(
                table=model._meta.db_table,
                pk=model._meta.pk.column,
                columns=columns,
                secrets=tuple(model._meta.get_field(name).column for name in secrets),
            )
        )
    for path in settings.AUDITED_LINKS:
        label, name = path.rsplit(".", 1)
        through = apps.get_model(label)._meta.get_field(name).remote_field.through
        columns = tuple(f.column for f in through._meta.concrete_fields if not f.primary_key)
        found.append(
            audit.Watched(
                table=through._meta.db_table,
                pk=through._meta.pk.column,
                columns=columns,
                inserts=True,
            )
        )
    return found


def install_triggers(sender=None, using="default", **kwargs) -> None:
    """Create the audit triggers (after every migration: new columns are watched too)."""
    if sender is not None and sender.name != "accounts":
        return  # post_migrate comes once per app: once is enough
    audit.install(
        connections[using],
        log_table=ChangeRecord._meta.db_table,
        watched=watched_tables(),
        append_only=[apps.get_model(label)._meta.db_table for label in settings.APPEND_ONLY_MODELS],
    )


@cache
def _models_by_table() -> dict:
    return {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}


def model_of(table_name: str):
    """Return the model whose table this is (None for a table no longer in the code)."""
    return _models_by_table().get(table_name)


def changed_fields(record: ChangeRecord) -> list[tuple[str, object, object]]:
    """Return (field label, before, after) for each field of a record, in the model's
    order, with the labels in the reader's language."""
    model = model_of(record.table_name)
    labels, order = {}, {}
    if model is not None:
        for position, field in enumerate(model._meta.concrete_fields):
            labels[field.column] = str(field.verbose_name)
            order[field.column] = position
    rows = []
    for column in sorted(record.changes, key=lambda c: (order.get(c, 999), c)):
        before, after = record.changes[column]
        rows.append((labels.get(column, column), before, after))
    return rows
