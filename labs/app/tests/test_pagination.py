"""core.pagination: DRF's page-number answers, field for field, from one query a page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework import pagination

from chats.models import Conversation
from core.pagination import WindowCountPaginator
from listings.models import Listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def listings(host):
    Listing.objects.bulk_create(
        Listing(host=host, title=f"Flat {n}", location=("Adama", "Gondar")[n % 2],
                price_per_night=Decimal(100 + n)) for n in range(45))


def drf_answer(client, path, monkeypatch):
    """The same request answered by DRF's own paginator (a COUNT query, then the page)."""
    monkeypatch.setattr(pagination.PageNumberPagination, "django_paginator_class",
                        pagination.DjangoPaginator)
    from core.pagination import PageNumberPagination
    monkeypatch.setattr(PageNumberPagination, "django_paginator_class",
                        pagination.DjangoPaginator)
    return client.get(path)


@pytest.mark.parametrize("query", [
    "", "?page=2", "?page=3", "?location=Adama&page=2", "?ordering=price_per_night&page=3",
    "?page=1&location=Nowhere", "?page=4", "?page=0", "?page=x", "?page=9" * 20])
def test_answers_are_drfs_with_one_query_less(api, listings, query, monkeypatch):
    client = api(None)
    ours = client.get(f"/api/listings/{query}&fresh=1" if "?" in query else "/api/listings/?f=1")
    theirs = drf_answer(client, f"/api/listings/{query}&fresh=2" if "?" in query
                        else "/api/listings/?f=2", monkeypatch)
    assert ours.status_code == theirs.status_code
    mine, drf = ours.json(), theirs.json()
    if ours.status_code == 200:
        for answer in (mine, drf):
            for link in ("next", "previous"):
                if answer[link]:
                    answer[link] = answer[link].replace("fresh=1", "").replace(
                        "fresh=2", "").replace("f=1", "").replace("f=2", "")
        assert mine == drf
        assert int(ours["X-DB-Query-Count"]) == 1  # DRF's: a count, then the page
        assert int(theirs["X-DB-Query-Count"]) == (2 if drf["results"] else 1)
    else:
        assert ours.status_code == 404 and mine == drf


def test_a_grouped_queryset_counts_groups(make_user):
    alice = make_user("guest")
    for _ in range(3):
        Conversation.objects.create().participants.add(alice)
    from chats.selectors import conversation_list
    paginator = WindowCountPaginator(conversation_list(user=alice), 2)
    page = paginator.page(2)
    assert paginator.count == 3 and len(page) == 1 and not page.has_next()


def test_distinct_querysets_fall_back_to_a_count(listings, make_user):
    from listings.models import Review

    guests = [make_user("guest"), make_user("guest")]
    for listing in Listing.objects.order_by("pk")[:5]:  # two joined rows each
        Review.objects.bulk_create(Review(listing=listing, author=g, rating=4) for g in guests)
    qs = Listing.objects.filter(reviews__rating__gte=1).distinct().order_by("pk")
    paginator = WindowCountPaginator(qs, 2)
    # A window would count the 10 joined rows before DISTINCT; the count query says 5.
    assert len(paginator.page(3).object_list) == 1 and paginator.count == 5
