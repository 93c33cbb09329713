"""Page queries compiled once per list, not on every request.

Turning a QuerySet into SQL (resolving joins, columns, ordering; Django's compiler) costs a
list request more Python than reading its rows, and for a given list it gives the same SQL
every time: only the page's LIMIT and OFFSET change. A selector marked `@planned` declares
that the query it returns is a function of its arguments alone (no clock, no setting that
changes at run time). The paginator then compiles that query once per arguments, with LIMIT
and OFFSET as parameters, and later pages and requests run the stored SQL and build the
model instances the way Django's ModelIterable does, select_related included.

Only the selector's own QuerySet is planned: filtering or ordering it (a filter in the query
string, `?ordering=`) makes a new QuerySet without the mark, which goes through the ORM as
usual. Querysets the plan cannot reproduce exactly (prefetch_related, values(), DISTINCT,
UNION, FOR UPDATE, extra ordering columns, fetch modes that track peers) go through the ORM
too. Plans are kept per database connection (each thread has its own), the most recent 256.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec

from django.core.signals import setting_changed
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.fetch_modes import FETCH_ONE
from django.db.models.query import ModelIterable, RelatedPopulator, get_related_populators
from django.dispatch import receiver

KEY = "_page_plan_key"  # on a selector's QuerySet: what its query is a function of
PLANS = "page_plans"  # on a connection (one per thread): key -> PagePlan
PLANS_PER_CONNECTION = 256
P = ParamSpec("P")  # not PEP 695 syntax: the lesson checks parse the app with Python 3.11


def planned(selector: Callable[P, QuerySet]) -> Callable[P, QuerySet]:  # noqa: UP047
    """Mark a selector whose query depends on its keyword arguments only."""
    name = f"{selector.__module__}.{selector.__qualname__}"

    @functools.wraps(selector)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> QuerySet:
        queryset = selector(*args, **kwargs)
        key = None if args else _key(name, kwargs)
        if key is not None and isinstance(queryset, QuerySet):
            setattr(queryset, KEY, key)  # a fresh QuerySet: clones of it do not carry it
        return queryset

    return wrapper


def _key(name: str, kwargs: dict[str, Any]) -> tuple | None:
    parts: list[Any] = [name]
    for argument, value in sorted(kwargs.items()):
        if isinstance(value, Model):
            value = (value._meta.label, value.pk)  # a row stands for its primary key
        try:
            hash(value)
        except TypeError:
            return None
        parts.append((argument, value))
    return tuple(parts)


@receiver(setting_changed)
def _forget_plans(**kwargs) -> None:
    """A selector may read a setting (tests override them): plan again."""
    for connection in connections.all(initialized_only=True):
        connection.__dict__.pop(PLANS, None)


@dataclass(frozen=True)
class PagePlan:
    """The page's SQL (LIMIT/OFFSET as its last two parameters) and how rows become models."""

    sql: str
    params: tuple
    model: type[Model]
    start: int  # the model's columns: row[start:end]
    end: int
    init_list: tuple[str, ...]
    related: tuple[RelatedPopulator, ...]
    annotations: tuple[tuple[str, int], ...]
    convert: Callable[[list], Any] | None  # the compiler's converters over the rows, if any

    def fetch(self, db: str, offset: int, limit: int) -> list[Model]:
        connection = connections[db]
        with connection.cursor() as cursor:  # counted by the query-count header as usual
            cursor.execute(self.sql, (*self.params, limit, offset))
            rows = cursor.fetchall()
        if self.convert is not None:
            rows = list(self.convert(rows))
        from_db = functools.partial(self.model.from_db, fetch_mode=FETCH_ONE)
        objects = []
        for row in rows:
            obj = from_db(db, self.init_list, row[self.start:self.end])
            for populator in self.related:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


def plannable(queryset: QuerySet) -> bool:
    query = queryset.query
    return (getattr(queryset, KEY, None) is not None
            and queryset._iterable_class is ModelIterable
            and queryset._fetch_mode is FETCH_ONE
            and not queryset._prefetch_related_lookups and not queryset._known_related_objects
            and not query.is_sliced and not query.distinct and not query.combinator
            and not query.select_for_update)


def fetch_page(queryset: QuerySet, prepare: Callable[[QuerySet], QuerySet],
               offset: int, limit: int) -> list[Model] | None:
    """The page's rows by the stored plan (compiled now if new); None if not plannable.

    `prepare` adds what the page query selects beyond the list (the paginator's total);
    it is part of the plan, so it must be the same function for the same list.
    """
    if not plannable(queryset):
        return None
    db = queryset.db
    connection = connections[db]
    plans: OrderedDict = connection.__dict__.setdefault(PLANS, OrderedDict())
    key = (getattr(queryset, KEY), prepare)
    plan = plans.get(key)
    if plan is None:
        plan = _compile(prepare(queryset), db)
        if plan is None:
            return None
        plans[key] = plan
        if len(plans) > PLANS_PER_CONNECTION:
            plans.popitem(last=False)
    else:
        plans.move_to_end(key)
    return plan.fetch(db, offset, limit)


def _compile(queryset: QuerySet, db: str) -> PagePlan | None:
    compiler = queryset.query.get_compiler(using=db)
    sql, params = compiler.as_sql()  # also fills select, klass_info, annotation_col_map
    select = compiler.select
    if (compiler.has_extra_select or compiler.klass_info is None
            or compiler.has_composite_fields([s[0] for s in select])):
        return None
    klass_info = compiler.klass_info
    fields = klass_info["select_fields"]
    start, end = fields[0], fields[-1] + 1
    converters = compiler.get_converters([s[0] for s in select[:compiler.col_count]])
    return PagePlan(
        sql=f"{sql} LIMIT %s OFFSET %s",
        params=tuple(params),
        model=klass_info["model"],
        start=start,
        end=end,
        init_list=tuple(s[0].target.attname for s in select[start:end]),
        related=tuple(get_related_populators(klass_info, select, db, FETCH_ONE)),
        annotations=tuple(compiler.annotation_col_map.items()),
        convert=(functools.partial(compiler.apply_converters, converters=converters)
                 if converters else None),
    )
