from rest_framework.pagination import PageNumberPagination


class DefaultPagination(PageNumberPagination):
    """Every API list: `{"count", "next", "previous", "results"}`, `?page=` and `?page_size=` (at most 100).

    A view that lists sets `pagination_class = DefaultPagination` (drf-spectacular then
    documents the paginated shape) and answers with `paginated_response`.
    """

    page_size_query_param = "page_size"
    max_page_size = 100


def paginated_response(*, request, view, items, serialize):
    """One page of `items` (a queryset or a list), each page serialized by `serialize(page) -> list`."""
    paginator = DefaultPagination()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(serialize(page))
