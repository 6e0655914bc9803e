"""Paginating the catalogue without counting every match: the count stops at COUNT_CAP.

An exact count of tens of thousands of matching templates costs more than the page
itself; nobody pages that far. Past the cap the pages say "1,000+" and offer the first
COUNT_CAP results (refine the filters for the rest).
"""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from common.pagination import DefaultPagination

COUNT_CAP = 1000


class CappedPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        return self.object_list[: COUNT_CAP + 1].count()

    @property
    def cap(self) -> int:
        return COUNT_CAP

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP


class CappedPagination(DefaultPagination):
    """The API's pages over the catalogue: `count` is exact up to COUNT_CAP, then COUNT_CAP + 1."""

    django_paginator_class = CappedPaginator
