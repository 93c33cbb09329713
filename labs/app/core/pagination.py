"""Page-number pagination whose page and total come from one query, not two.

DRF's PageNumberPagination asks Django's Paginator for the count (a `SELECT COUNT(*)`, built
by the ORM and sent on its own) and then for the page. Here the page's query carries the
total as a window function, `COUNT(*) OVER ()`: the database counts the rows the WHERE
clause keeps before LIMIT/OFFSET cut the page out, in the same pass, so a paginated list
costs one query (a sixth of a list request's Python time and a round trip were the count's).
The answer is DRF's, field for field: count, next, previous, results.

A list whose selector is `@pageplan.planned` runs its page query from SQL compiled once
(core/pageplan.py); any other list is compiled by the ORM on each request.

The separate count stays where one query cannot give it: a page past the end (no row to
carry the total; it answers 404 as before; an empty first page needs none), a page number
past any OFFSET, DISTINCT or UNION querysets (a window counts before DISTINCT), `.values()`
querysets, orphans, lists, and the benchmark's naive baseline.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, QuerySet, Window
from django.db.models.query import ModelIterable
from rest_framework import pagination

from core import pageplan

TOTAL = "_page_total"  # the annotation carrying the total on each row of the page
MAX_OFFSET = 2**63 - 1  # OFFSET is a bigint


def with_total(queryset: QuerySet) -> QuerySet:
    return queryset.annotate(**{TOTAL: Window(Count("*"))})


class WindowCountPaginator(Paginator):
    def page(self, number) -> Page:
        if not self._one_query():
            return super().page(number)
        number = self._positive_int(number)
        bottom = (number - 1) * self.per_page
        if bottom + self.per_page > MAX_OFFSET:  # Postgres refuses it: count, then 404
            return super().page(number)
        rows = pageplan.fetch_page(self.object_list, with_total, bottom, self.per_page)
        if rows is None:  # not a planned list: the ORM compiles it
            rows = list(with_total(self.object_list)[bottom:bottom + self.per_page])
        if rows:
            self.__dict__["count"] = getattr(rows[0], TOTAL)  # Paginator.count is cached
        elif bottom == 0:
            self.__dict__["count"] = 0  # nothing at all
        else:  # past the end: Django's count and checks decide (404)
            return super().page(number)
        return self._get_page(rows, self.validate_number(number), self)

    def _one_query(self) -> bool:
        qs = self.object_list
        return (not settings.LAB_NAIVE_QUERIES and isinstance(qs, QuerySet)
                and qs._iterable_class is ModelIterable and not qs.query.distinct
                and not qs.query.combinator and not qs.query.is_sliced and not self.orphans
                and "count" not in self.__dict__)

    def _positive_int(self, number) -> int:
        """Django's validate_number without the upper bound (checked once the page is in)."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = WindowCountPaginator
