"""Search applications by part of the number, the customer's name or its credit code.

Every part may sit anywhere in the text ("宏达" in "杭州宏达环保科技有限公司"), so the
condition is a ``LIKE '%…%'``. Written as one condition over the application joined to its
customer, PostgreSQL can use no index for it (an OR across two tables) and walks the
applications in page order, testing each: instant when the text is common, a scan of every
application when it is rare. So a search first looks for the matching rows in each table
on its own, through the indexes of migration ``applications.0017`` (trigrams for three
characters or more, the name's characters for one or two):

- when each finds at most ``SEARCH_CANDIDATES_MAX`` rows (a rare text), the applications
  are those keys, an index lookup whatever the number of applications;
- when one finds more (a common text such as "有限公司"), the page is filled by the walk in
  page order, which meets matching rows at once.

Numbers and credit codes of one or two characters are compared with their beginning
("YK", "91") through their B-tree indexes (both are stored in capitals): two characters
inside a code are not a search, and would be a scan of every row. SQLite (the embedded
mode) has none of these indexes and scans; the answers are the same.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import F, Lookup, Q
from django.db.models.lookups import IContains

from yekuo.lookups import any_of

from .models import Application, Customer

# Shorter than this, the number and the credit code are compared with their beginning.
CODE_MIN_LENGTH = 3


class _ContainsShort(Lookup):
    """``lhs`` contains ``rhs`` (one or two characters), case-insensitively.

    On PostgreSQL the text's characters are looked up in the GIN index of the name's
    characters (``customer_name_characters``) and ``LIKE`` keeps the names holding them
    side by side; elsewhere ``icontains``.
    """

    lookup_name = "contains_short"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        return IContains(self.lhs, self.rhs).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        like, like_params = IContains(self.lhs, self.rhs).as_sql(compiler, connection)
        return (
            f"string_to_array(UPPER({lhs}::text), NULL) @> string_to_array(UPPER(%s), NULL)"
            f" AND {like}",
            (*lhs_params, self.rhs, *like_params),
        )


def _name_contains(field: str, text: str):
    if len(text) < 3:
        return _ContainsShort(F(field), text)
    return IContains(F(field), text)


def _code_matches(field: str, text: str) -> Q:
    if len(text) < CODE_MIN_LENGTH:
        return Q(**{f"{field}__startswith": text.upper()})
    return Q(**{f"{field}__icontains": text})


def _broad(text: str) -> Q:
    """The condition as one filter over the application and its customer (tested row by
    row on the walk: a plain LIKE, not the character pairs of the index)."""
    return (
        Q(customer__name__icontains=text)
        | _code_matches("number", text)
        | _code_matches("customer__credit_code", text)
    )


def search_applications(queryset, text: str):
    """Keep the applications of ``queryset`` whose number, customer name or credit code
    contains ``text`` (case-insensitively; codes of one or two characters by their
    beginning).

    Runs two short queries at once to find the candidates (see the module's text);
    the queryset returned is lazy as before.
    """
    text = text.strip()
    if not text:
        return queryset
    limit = settings.SEARCH_CANDIDATES_MAX
    named = Q(_name_contains("name", text)) | _code_matches("credit_code", text)
    customers = Customer.objects.filter(named).order_by()
    customer_ids = list(customers.values_list("pk", flat=True)[: limit + 1])
    if len(customer_ids) > limit:
        return queryset.filter(_broad(text))
    numbered = Application.objects.filter(_code_matches("number", text)).order_by()
    application_ids = list(numbered.values_list("pk", flat=True)[: limit + 1])
    if len(application_ids) > limit:
        return queryset.filter(_broad(text))
    return queryset.filter(
        Q(any_of("customer_id", customer_ids)) | Q(any_of("pk", application_ids))
    )
