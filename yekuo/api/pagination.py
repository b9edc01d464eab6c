"""Pages of the API's lists and of the workspace, with a count that does not scan a
province's rows.

The count is exact up to ``API_EXACT_COUNT_LIMIT`` rows (10,000): it is taken over at most
that many rows plus one, so it costs the same however many rows match. Beyond that,
PostgreSQL's planner estimates it (``EXPLAIN``) and the answer says so with
``count_exact: false``; pages are then read without the count (one row more than the
page tells whether there is a next one), so ``next`` and ``previous`` stay exact and a page
past the real end answers 404. Integrators who need every row follow ``next``.
"""

import json

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param


def estimated_count(queryset) -> int | None:
    """Return PostgreSQL's estimate of the rows of ``queryset`` (None elsewhere)."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class BoundedCountPaginator(DjangoPaginator):
    """Counts at most ``limit + 1`` rows; estimates beyond."""

    count_exact = True

    @cached_property
    def count(self):
        limit = settings.API_EXACT_COUNT_LIMIT
        bounded = self.object_list.order_by().values("pk")[: limit + 1].count()
        if bounded <= limit:
            return bounded
        estimate = estimated_count(self.object_list)
        if estimate is None:
            return self.object_list.count()  # the embedded database: small by nature
        self.count_exact = False
        return max(estimate, bounded)

    def page(self, number):
        if self.count <= settings.API_EXACT_COUNT_LIMIT or self.count_exact:
            page = super().page(number)
            page.more = page.has_next()
            return page
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(_("That page contains no results"))
        page = _OpenEndedPage(rows[: self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page

    def validate_number(self, number):
        if self.count <= settings.API_EXACT_COUNT_LIMIT or self.count_exact:
            return super().validate_number(number)
        # Beyond the exact count the last page is not known: page() finds an empty one.
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        return number

    def get_page(self, number):
        """The page ``number``, or the first one for a number that is not a page (a link
        kept from a longer list); for the workspace, which shows a page whatever is asked."""
        try:
            return self.page(self.validate_number(number))
        except (PageNotAnInteger, EmptyPage):
            return self.page(1)


class _OpenEndedPage(Page):
    """A page of an estimated list: it has a next page when one more row was read."""

    def has_next(self):
        return self.more


class Pagination(PageNumberPagination):
    """Pages of 50 by default; ``page_size`` chooses up to 200 (more is capped at 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = BoundedCountPaginator

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) == "":
            raise ValidationError({self.page_query_param: [_("Enter a page number.")]})
        return super().get_page_number(request, paginator)

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError(
                {self.page_size_query_param: [_("Enter a whole number from 1 to 200.")]}
            )
        return min(size, self.max_page_size)

    def get_next_link(self):
        if not self.page.more:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.page_query_param, self.page.number + 1)

    def get_paginated_response(self, data):
        return Response(
            {
                "count": self.page.paginator.count,
                "count_exact": self.page.paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count_exact"] = {
            "type": "boolean",
            "description": (
                "False when there are more rows than API_EXACT_COUNT_LIMIT (10,000) and "
                "count is PostgreSQL's estimate; follow next for every row."
            ),
        }
        answer["required"] = [*answer.get("required", ["count", "results"]), "count_exact"]
        return answer
