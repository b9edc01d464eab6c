"""Filter by a long list of keys without a placeholder per key.

``field__in=ids`` renders one ``%s`` per value. For the few hundred ids of a sweep batch,
Django then prepares each value through the field, psycopg splits and fills a statement of
hundreds of placeholders (and keys its cache of prepared statements by that text), and
PostgreSQL parses a list it turns into an array anyway: together about a tenth of a batch's
time. :class:`AnyOf` sends the values as one array parameter instead (``= ANY(%s)``), which
means the same. Elsewhere (SQLite, in the embedded mode) it is ``IN`` as usual.

Use it as a filter expression: ``Activity.objects.filter(any_of("application_id", ids))``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F
from django.db.models.lookups import In


class AnyOf(In):
    """``IN``, written ``lhs = ANY(%s)`` with one array parameter on PostgreSQL.

    It inherits what ``In`` does with its values: ``None`` is dropped (it matches nothing),
    duplicates are dropped, each value is prepared by the field, and an empty list matches
    no row without a query.
    """

    lookup_name = "any_of"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # In.process_rhs drops None and duplicates, raises EmptyResultSet for no values, and
        # prepares each value; only its rendering of one placeholder per value is not used.
        _placeholders, values = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*lhs_params, list(values))


def any_of(field: str, values: Iterable) -> AnyOf:
    """Return the filter "``field`` is one of ``values``" (see :class:`AnyOf`)."""
    return AnyOf(F(field), list(values))
