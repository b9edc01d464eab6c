from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """Pages of 50 by default; ``page_size`` chooses up to 200 (more is capped at 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

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
