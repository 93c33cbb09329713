"""core.pageplan: a planned list's page query compiled once, with the ORM's answers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connections
from django.db.models.sql.compiler import SQLCompiler
from django.test import override_settings
from django.utils import timezone

from chats.models import Message
from chats.selectors import message_list
from chats.services import conversation_create, message_create
from core import pageplan
from core.pagination import WindowCountPaginator, with_total
from listings.models import Listing
from listings.selectors import listing_list

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_plans():
    connections["default"].__dict__.pop(pageplan.PLANS, None)


@pytest.fixture
def listings(host):
    """Flat 0 .. Flat 24, Flat 24 the newest (first in the list)."""
    made = Listing.objects.bulk_create(
        Listing(host=host, title=f"Flat {n}", location=("Adama", "Gondar")[n % 2],
                price_per_night=Decimal(100 + n)) for n in range(25))
    start = timezone.now() - timedelta(days=1)
    for n, listing in enumerate(made):  # no two alike: the order is the same on every plan
        Listing.objects.filter(pk=listing.pk).update(created_at=start + timedelta(minutes=n))


@pytest.fixture
def trio(make_user):
    return make_user("guest"), make_user("host"), make_user("guest")


@pytest.fixture
def compiles(monkeypatch):
    """How many times Django's compiler writes SQL from here on."""
    calls = []
    original = SQLCompiler.as_sql

    def counting(self, *args, **kwargs):
        calls.append(self.query.model)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", counting)
    return calls


def plans() -> dict:
    return connections["default"].__dict__.get(pageplan.PLANS, {})


def orm_page(queryset, offset: int, limit: int) -> list:
    return list(with_total(queryset)[offset:offset + limit])


def as_rows(objects) -> list[dict]:
    """What a page's instances hold: their columns, annotations and select_related rows."""
    rows = []
    for obj in objects:
        row = {k: v for k, v in vars(obj).items() if k != "_state"}
        for name, related in obj._state.fields_cache.items():
            row[name] = {k: v for k, v in vars(related).items() if k != "_state"}
        row["adding"], row["db"] = obj._state.adding, obj._state.db
        rows.append(row)
    return rows


def test_planned_pages_hold_what_the_orm_loads(listings):
    for offset in (0, 10, 20, 40):
        planned = pageplan.fetch_page(listing_list(), with_total, offset, 10)
        assert as_rows(planned) == as_rows(orm_page(listing_list(), offset, 10))
    assert planned == []  # past the end
    first = pageplan.fetch_page(listing_list(), with_total, 0, 10)[0]
    assert first.host.first_name and first.get_deferred_fields() == {
        *orm_page(listing_list(), 0, 1)[0].get_deferred_fields()}


def test_a_list_is_compiled_once_for_all_its_pages_and_requests(api, listings, compiles):
    client = api(None)
    for n, page in enumerate((1, 2, 1, 2)):
        response = client.get(f"/api/listings/?page={page}&nocache={n}")
        assert response.status_code == 200 and response["X-DB-Query-Count"] == "1"
    assert compiles.count(Listing) == 1  # the first request's; later pages reuse its SQL
    assert [r["title"] for r in client.get("/api/listings/?page=2&x=1").json()["results"]] \
        == [f"Flat {n}" for n in range(4, -1, -1)]


def test_each_conversation_has_its_own_plan_and_only_its_messages(trio):
    alice, bob, carol = trio
    ours = conversation_create(creator=alice, participants=[bob])
    theirs = conversation_create(creator=carol, participants=[bob])
    for n in range(3):
        message_create(conversation=ours, sender=alice, body=f"ours {n}")
        message_create(conversation=theirs, sender=carol, body=f"theirs {n}")
    for _ in range(2):  # the second time from the stored plans
        mine = pageplan.fetch_page(message_list(conversation=ours), with_total, 0, 20)
        other = pageplan.fetch_page(message_list(conversation=theirs), with_total, 0, 20)
        assert [m.body for m in mine] == ["ours 0", "ours 1", "ours 2"]
        assert [m.body for m in other] == ["theirs 0", "theirs 1", "theirs 2"]
        assert {m.sender.email for m in other} == {carol.email}
    assert len(plans()) == 2


def test_a_plan_stores_sql_not_rows(listings, host):
    assert len(pageplan.fetch_page(listing_list(), with_total, 0, 100)) == 25
    Listing.objects.create(host=host, title="New", location="Adama", price_per_night=1)
    page = pageplan.fetch_page(listing_list(), with_total, 0, 100)
    assert len(page) == 26 and page[0].title == "New" and page[0]._page_total == 26


def test_filtered_or_reordered_lists_are_compiled_by_the_orm(api, listings, compiles):
    for queryset in (listing_list().filter(location="Adama"),
                     listing_list().order_by("price_per_night"),
                     listing_list().prefetch_related("reviews"),
                     listing_list().values("title"),
                     listing_list().distinct(),
                     Listing.objects.order_by("pk")):
        assert not pageplan.plannable(queryset)
        assert pageplan.fetch_page(queryset, with_total, 0, 5) is None
    client = api(None)
    response = client.get("/api/listings/?location=Adama&ordering=-price_per_night")
    assert [r["title"] for r in response.json()["results"]] == [
        f"Flat {n}" for n in range(24, -1, -2)]
    assert plans() == {}


def test_the_paginator_counts_from_the_plan(listings):
    paginator = WindowCountPaginator(listing_list(), 10)
    page = paginator.page(3)
    assert paginator.count == 25 and len(page) == 5 and not page.has_next()
    assert len(plans()) == 1


def test_plans_are_forgotten_when_settings_change(listings):
    pageplan.fetch_page(listing_list(), with_total, 0, 5)
    assert plans()
    with override_settings(PAGE_PLAN_PROBE=True):
        assert plans() == {}


def test_plans_per_connection_are_bounded(trio, monkeypatch):
    monkeypatch.setattr(pageplan, "PLANS_PER_CONNECTION", 2)
    alice, bob, _ = trio
    conversations = [conversation_create(creator=alice, participants=[bob]) for _ in range(4)]
    for conversation in conversations:
        pageplan.fetch_page(message_list(conversation=conversation), with_total, 0, 20)
    kept = [dict(key[0][1:])["conversation"][1] for key in plans()]
    assert kept == [c.pk for c in conversations[2:]]  # the least recently used went first


def test_selectors_with_arguments_that_cannot_be_a_key_are_not_planned():
    @pageplan.planned
    def by_ids(*, ids):
        return Message.objects.filter(pk__in=ids).order_by("sent_at")

    assert getattr(by_ids(ids=(1, 2)), pageplan.KEY) is not None
    assert getattr(by_ids(ids=[1, 2]), pageplan.KEY, None) is None  # a list: unhashable
