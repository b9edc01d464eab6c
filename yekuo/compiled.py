"""Count queries compiled to SQL once per process, then run with other values.

Building a queryset and compiling it costs Django some milliseconds of CPU for a union of
subqueries, whatever the database then spends. A count that every page asks for (the
navigation's to-do figure) has one shape per kind of user; only the keys in it (a
person's, a department's) change from request to request. :func:`count` builds the
queryset of a shape once, with a marker in place of each key, keeps the SQL and where the
markers landed among its parameters, and from then on runs that SQL with the real keys.

Only integer keys of filters can be marked: anything that changes the query's shape (a
permission, a limit) belongs in the shape's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.db import connections, router
from django.db.models import Model, QuerySet

# Far outside any key the database hands out, and distinct from each other.
_MARKER_BASE = -(2**31) + 1000


class CompileError(RuntimeError):
    """A marked value did not reach the query as a parameter of its own."""


_COMPILED: dict[tuple, tuple[str, tuple, dict[int, str]]] = {}


def count(
    shape: tuple,
    model: type[Model],
    build: Callable[..., QuerySet],
    values: Mapping[str, int],
) -> int:
    """Return ``build(**values).count()``, compiled once per ``shape``.

    ``build`` takes the keys (integers) by name and returns the queryset of ``model`` to
    count; ``shape`` names everything else the queryset depends on. A key the query does
    not use is fine; one folded into the SQL's text (so it would be read once and kept)
    raises :class:`CompileError`.
    """
    names = tuple(sorted(values))
    # The database a read of ``model`` goes to (a router may send it to the replica) is
    # part of the shape: each has its own dialect.
    alias = router.db_for_read(model)
    key = (shape, names, alias)
    compiled = _COMPILED.get(key)
    if compiled is None:
        markers = {name: _MARKER_BASE + i for i, name in enumerate(names)}
        compiled = _COMPILED[key] = _compile(build(**markers).using(alias), markers)
    sql, params, marked = compiled
    filled = list(params)
    for position, name in marked.items():
        filled[position] = values[name]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, filled)
        return cursor.fetchone()[0]


def _compile(queryset: QuerySet, markers: Mapping[str, int]) -> tuple[str, tuple, dict[int, str]]:
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    by_marker = {marker: name for name, marker in markers.items()}
    marked = {
        position: by_marker[value]
        for position, value in enumerate(params)
        if type(value) is int and value in by_marker
    }
    for value in markers.values():
        if str(value) in sql:
            raise CompileError(f"a marked key ({value}) is written into the SQL's text")
    return f"SELECT COUNT(*) FROM ({sql}) counted", tuple(params), marked
