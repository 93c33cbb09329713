"""The fast paths keep the app's behaviour: same JSON, same filtering, same per-user caching.

- core.serializers.FastReadMixin: DRF's output, value for value, for every serializer using it;
- core.cache.cache_list: a hit is answered in front of DRF (no SQL even with a JWT), and
  only ever to the same token; what is not a 200 GET of the list is never stored;
- core.filters.FilterBackend: no FilterSet without a filter parameter, the usual one with;
- core.auth: with lesson 2's middlewares on, one user query per request, not two.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from accounts.serializers import PublicUserSerializer, UserSerializer
from chats.models import Message
from chats.selectors import conversation_list, message_list
from chats.serializers import ConversationSerializer, MessageSerializer
from chats.services import conversation_create, message_create
from core import auth
from core.serializers import FastListSerializer, FastReadMixin
from listings.models import Listing, Review
from listings.selectors import listing_list
from listings.serializers import ListingSerializer, ReviewSerializer

pytestmark = pytest.mark.django_db


def drf_output(serializer_class, instance, *, many=False):
    """What DRF itself gives: the mixin's to_representation taken out, nested ones too."""
    original = FastReadMixin.to_representation, FastListSerializer.to_representation
    FastReadMixin.to_representation = serializers.Serializer.to_representation
    FastListSerializer.to_representation = serializers.ListSerializer.to_representation
    try:
        return serializer_class(instance, many=many).data
    finally:
        FastReadMixin.to_representation, FastListSerializer.to_representation = original


def assert_same(serializer_class, instance, *, many=False):
    fast = serializer_class(instance, many=many).data
    drf = drf_output(serializer_class, instance, many=many)
    assert fast == drf
    # Same types too: the rendered bytes are identical.
    assert JSONRenderer().render(fast) == JSONRenderer().render(drf)
    return fast


@pytest.fixture
def chat(make_user):
    alice, bob = make_user("guest", phone_number="+251911000000"), make_user("host")
    conversation = conversation_create(creator=alice, participants=[bob])
    root = message_create(conversation=conversation, sender=alice, body="root")
    message_create(conversation=conversation, sender=bob, body="reply", parent_message=root)
    Message.objects.filter(pk=root.pk).update(edited=True, read=True)
    return alice, conversation


def test_fast_read_gives_drf_output_for_chats(chat):
    alice, conversation = chat
    rows = assert_same(MessageSerializer, list(message_list(conversation=conversation)),
                       many=True)
    assert str(rows[1]["parent_message"]) == rows[0]["message_id"] and rows[0]["edited"] is True
    listed = assert_same(ConversationSerializer, list(conversation_list(user=alice)), many=True)
    assert listed[0]["message_count"] == 2 and len(listed[0]["participants"]) == 2
    # Not loaded through the selector: no message_count annotation, DRF's default applies.
    assert assert_same(ConversationSerializer, conversation)["message_count"] == 0
    assert_same(UserSerializer, alice)
    assert_same(PublicUserSerializer, alice)


def test_fast_read_gives_drf_output_for_listings(host, make_user):
    listing = Listing.objects.create(host=host, title="Lake", description="",
                                     location="Bishoftu", price_per_night=Decimal("1500.5"))
    Listing.objects.create(host=host, title="No reviews", location="Adama",
                           price_per_night=Decimal("99"))
    Listing.objects.filter(pk=listing.pk).update(created_at=timezone.now() - timedelta(days=3))
    for rating in (4, 5):
        Review.objects.create(listing=listing, author=make_user("guest"), rating=rating)
    rows = assert_same(ListingSerializer, list(listing_list()), many=True)
    assert [(r["average_rating"], r["review_count"]) for r in rows] == [(None, 0), (4.5, 2)]
    assert rows[1]["price_per_night"] == "1500.50"
    assert_same(ListingSerializer, Listing.objects.get(pk=listing.pk))  # no annotations
    assert_same(ReviewSerializer, list(Review.objects.all()), many=True)


def test_cached_list_is_answered_before_drf_and_per_token(api, listing, make_user,
                                                          django_assert_num_queries):
    guest = make_user("guest")
    client = api(guest)
    assert client.get("/api/listings/").status_code == 200
    with django_assert_num_queries(0):  # not even the user behind the JWT is loaded
        again = client.get("/api/listings/")
    assert again.status_code == 200 and again["X-DB-Query-Count"] == "0"
    other = api(make_user("guest")).get("/api/listings/")
    assert int(other["X-DB-Query-Count"]) > 0  # another token: another entry
    # A bad token is never answered from the cache.
    bad = api(None).get("/api/listings/", HTTP_AUTHORIZATION="Bearer not.a.jwt")
    assert bad.status_code == 401


def test_only_the_list_route_is_cached(api, listing):
    client = api(listing.host)
    detail = f"/api/listings/{listing.pk}/"
    client.get(detail)
    assert int(client.get(detail)["X-DB-Query-Count"]) > 0
    client.get("/api/listings/")
    created = client.post("/api/listings/", {"title": "New", "location": "Adama",
                                             "price_per_night": "10.00"}, format="json")
    assert created.status_code == 201 and int(created["X-DB-Query-Count"]) > 0
    assert int(client.get(f"{detail}reviews/")["X-DB-Query-Count"]) > 0


def test_conversations_cached_per_user_never_cross(api, chat, make_user):
    alice, conversation = chat
    mine = api(alice).get("/api/conversations/").json()
    assert [c["conversation_id"] for c in mine["results"]] == [str(conversation.pk)]
    stranger = api(make_user("guest"))
    for _ in range(2):  # the second one would be a hit of the stranger's own entry
        assert stranger.get("/api/conversations/").json()["count"] == 0


def test_no_filterset_without_a_filter_parameter(api, host, monkeypatch):
    from listings.filters import ListingFilter

    for location in ("Gondar", "Hawassa"):
        Listing.objects.create(host=host, title=location, location=location,
                               price_per_night=Decimal(100))
    built = []
    init = ListingFilter.__init__
    monkeypatch.setattr(ListingFilter, "__init__",
                        lambda self, *a, **k: built.append(1) or init(self, *a, **k))
    client = api(None)
    assert client.get("/api/listings/", {"page": 1}).json()["count"] == 2 and not built
    assert client.get("/api/listings/", {"location": "gon"}).json()["count"] == 1 and built
    assert client.get("/api/listings/", {"min_price": "abc"}).status_code == 400


def test_lesson2_middlewares_and_drf_load_the_user_once(settings, api, chat):
    alice, conversation = chat
    url = f"/api/conversations/{conversation.pk}/messages/"
    auth.clear()  # both requests load alice (core/auth.py keeps users for seconds)
    plain = int(api(alice).get(url)["X-DB-Query-Count"])
    at = settings.MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    settings.MIDDLEWARE = [*settings.MIDDLEWARE[:at + 1],
                           *settings.LAB_MIDDLEWARE_CLASSES.values(),
                           *settings.MIDDLEWARE[at + 1:]]
    settings.LAB_ACCESS_HOURS = "00:00-24:00"
    auth.clear()
    response = api(alice).get(url)
    assert response.status_code == 200 and int(response["X-DB-Query-Count"]) == plain
    assert json.loads(response.content)["count"] == 2


def test_a_hit_is_the_stored_answer_with_its_age(api, listing):
    client = api(None)
    first = client.get("/api/listings/?age=1")
    hit = client.get("/api/listings/?age=1")
    assert hit.content == first.content and hit["X-DB-Query-Count"] == "0"
    assert hit["Cache-Control"] == first["Cache-Control"] == "max-age=900"
    assert hit["Expires"] == first["Expires"] and int(hit["Age"]) >= 0
    assert "Authorization" in hit["Vary"]
    head = client.head("/api/listings/?age=1")
    assert head.status_code == 200


def test_an_answer_that_sets_a_cookie_is_never_stored(api, listing, monkeypatch):
    from listings.views import ListingViewSet

    list_ = ListingViewSet.list

    def with_cookie(self, request, *args, **kwargs):
        response = list_(self, request, *args, **kwargs)
        response.set_cookie("seen", "yes")
        return response

    monkeypatch.setattr(ListingViewSet, "list", with_cookie)
    client = api(None)
    client.get("/api/listings/?cookie=1")
    assert int(client.get("/api/listings/?cookie=1")["X-DB-Query-Count"]) > 0
