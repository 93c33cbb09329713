import os
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from listings.models import Booking, Listing, Review
from listings.services import BookingError, booking_create

pytestmark = pytest.mark.django_db


def days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


def test_only_hosts_create_listings(api, host, guest):
    payload = {"title": "Flat", "location": "Addis Ababa", "price_per_night": "900.00"}
    assert api(guest).post("/api/listings/", payload, format="json").status_code == 403
    created = api(host).post("/api/listings/", payload, format="json")
    assert created.status_code == 201
    assert created.json()["host"] == {"user_id": str(host.pk), "first_name": host.first_name}


def test_only_the_owner_changes_a_listing(api, listing, make_user):
    other_host = make_user("host")
    url = f"/api/listings/{listing.pk}/"
    assert api(other_host).patch(url, {"title": "Mine now"}, format="json").status_code == 403
    assert api(other_host).delete(url).status_code == 403
    changed = api(listing.host).patch(url, {"title": "Renamed"}, format="json")
    assert changed.status_code == 200 and changed.json()["title"] == "Renamed"


def test_listings_are_public_to_read_and_filterable(api, host):
    for location, price in [("Gondar", 500), ("Gondar", 2500), ("Hawassa", 1200)]:
        Listing.objects.create(host=host, title=f"{location} {price}", location=location,
                               price_per_night=Decimal(price))
    client = api(None)
    assert client.get("/api/listings/", {"location": "gondar"}).json()["count"] == 2
    cheap = client.get("/api/listings/", {"max_price": "1500"}).json()
    assert {r["title"] for r in cheap["results"]} == {"Gondar 500", "Hawassa 1200"}
    ordered = client.get("/api/listings/", {"ordering": "-price_per_night"}).json()
    assert ordered["results"][0]["title"] == "Gondar 2500"


def test_listing_list_query_count(api, make_user, django_assert_max_num_queries):
    hosts = [make_user("host") for _ in range(5)]
    for i in range(20):
        Listing.objects.create(host=hosts[i % 5], title=f"L{i}", location="Adama",
                               price_per_night=Decimal(100 + i))
    client = api(None)
    with django_assert_max_num_queries(2):  # count + page with hosts and ratings
        response = client.get("/api/listings/")
    assert len(response.json()["results"]) == 20


def test_guest_books_with_server_side_total(api, guest, listing, queued_tasks):
    response = api(guest).post("/api/bookings/", {
        "listing": str(listing.pk), "start_date": days(5), "end_date": days(8),
        "total_price": "1.00"}, format="json")
    assert response.status_code == 201
    assert response.json()["total_price"] == "4500.00"  # 3 nights x 1500, not the client's
    assert response.json()["status"] == "confirmed"


def test_booking_email_is_queued_on_commit(guest, listing, queued_tasks,
                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        booking = booking_create(listing=listing, guest=guest,
                                 start_date=date.today() + timedelta(days=1),
                                 end_date=date.today() + timedelta(days=2))
    assert queued_tasks == [("listings.tasks.send_booking_confirmation", (str(booking.pk),))]


def test_hosts_cannot_book(api, listing, make_user):
    response = api(make_user("host")).post("/api/bookings/", {
        "listing": str(listing.pk), "start_date": days(5), "end_date": days(6)}, format="json")
    assert response.status_code == 403


def test_overlapping_confirmed_bookings_are_refused(api, listing, make_user):
    first, second = make_user("guest"), make_user("guest")
    ok = api(first).post("/api/bookings/", {"listing": str(listing.pk), "start_date": days(10),
                                            "end_date": days(13)}, format="json")
    assert ok.status_code == 201
    clash = api(second).post("/api/bookings/", {"listing": str(listing.pk),
                                                "start_date": days(12), "end_date": days(15)},
                             format="json")
    assert clash.status_code == 400 and "overlap" in clash.json()["detail"]
    # Checking out on the day the next guest checks in is fine.
    adjacent = api(second).post("/api/bookings/", {"listing": str(listing.pk),
                                                   "start_date": days(13), "end_date": days(15)},
                                format="json")
    assert adjacent.status_code == 201


def test_canceling_frees_the_dates(api, guest, listing, make_user):
    booked = api(guest).post("/api/bookings/", {"listing": str(listing.pk),
                                                "start_date": days(3), "end_date": days(5)},
                             format="json").json()
    assert api(guest).post(f"/api/bookings/{booked['booking_id']}/cancel/").status_code == 200
    again = booking_create(listing=listing, guest=make_user("guest"),
                           start_date=date.today() + timedelta(days=3),
                           end_date=date.today() + timedelta(days=5))
    assert again.status == Booking.Status.CONFIRMED


def test_database_refuses_overlap_even_past_the_service(listing, guest):
    start = date.today() + timedelta(days=20)
    Booking.objects.create(listing=listing, guest=guest, start_date=start,
                           end_date=start + timedelta(days=3), total_price=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(listing=listing, guest=guest, start_date=start + timedelta(1),
                               end_date=start + timedelta(days=2), total_price=1)


def test_bad_dates_are_refused(guest, listing):
    with pytest.raises(BookingError):
        booking_create(listing=listing, guest=guest, start_date=date.today() + timedelta(3),
                       end_date=date.today() + timedelta(2))
    with pytest.raises(BookingError):
        booking_create(listing=listing, guest=guest, start_date=date.today() - timedelta(3),
                       end_date=date.today() + timedelta(2))


def test_bookings_are_visible_to_guest_and_host_only(api, booking, make_user,
                                                     django_assert_max_num_queries):
    assert api(booking.guest).get("/api/bookings/").json()["count"] == 1
    assert api(booking.listing.host).get("/api/bookings/").json()["count"] == 1
    assert api(make_user("guest")).get("/api/bookings/").json()["count"] == 0
    client = api(booking.guest)
    with django_assert_max_num_queries(3):
        client.get("/api/bookings/")


def test_reviews_rating_between_1_and_5(api, guest, listing):
    url = f"/api/listings/{listing.pk}/reviews/"
    assert api(guest).post(url, {"rating": 6}, format="json").status_code == 400
    assert api(guest).post(url, {"rating": 0}, format="json").status_code == 400
    assert api(guest).post(url, {"rating": 4, "comment": "Nice"},
                           format="json").status_code == 201
    assert api(guest).post(url, {"rating": 5}, format="json").status_code == 400  # once
    assert api(listing.host).post(url, {"rating": 5}, format="json").status_code == 403
    listed = api(None).get("/api/listings/").json()["results"][0]
    assert listed["average_rating"] == 4.0 and listed["review_count"] == 1


def test_listing_list_is_cached_for_15_minutes(api, listing):
    first = api(None).get("/api/listings/")
    again = api(None).get("/api/listings/")
    assert "max-age=900" in first["Cache-Control"]
    assert int(first["X-DB-Query-Count"]) > 0 and int(again["X-DB-Query-Count"]) == 0
    assert again.json() == first.json()


def test_public_reads_show_no_email_addresses(api, listing, make_user):
    """Issue 11, item 3: hosts and reviewers are named, never reachable by e-mail."""
    from listings.models import Review

    reviewer = make_user("guest")
    Review.objects.create(listing=listing, author=reviewer, rating=4, comment="Quiet")
    for client in (api(None), api(make_user("guest"))):  # anonymous, or any other user
        for path in ("/api/listings/", f"/api/listings/{listing.pk}/",
                     f"/api/listings/{listing.pk}/reviews/"):
            body = client.get(path).content.decode()
            assert listing.host.email not in body and reviewer.email not in body, path
            assert "@" not in body, path
    detail = api(None).get(f"/api/listings/{listing.pk}/").json()
    assert detail["host"] == {"user_id": str(listing.host.pk),
                              "first_name": listing.host.first_name}


def test_the_benchmarks_naive_baseline_lists_the_same_with_more_queries(settings, api,
                                                                        make_user):
    hosts = [make_user("host") for _ in range(3)]
    for i in range(6):
        listing = Listing.objects.create(host=hosts[i % 3], title=f"L{i}", location="Adama",
                                         price_per_night=Decimal(100 + i))
        Review.objects.create(listing=listing, author=make_user("guest"), rating=1 + i % 5)
    reference = api(None).get("/api/listings/?ordering=price_per_night")
    settings.LAB_NAIVE_QUERIES = True  # bench/api.py's baseline: N+1 and aggregates on a join
    naive = api(None).get("/api/listings/?ordering=price_per_night&naive=1")
    assert naive.json()["results"] == reference.json()["results"]
    assert int(naive["X-DB-Query-Count"]) > int(reference["X-DB-Query-Count"]) + 5


def test_the_listed_rating_follows_reviews_however_they_change(api, listing, make_user):
    from listings.models import Review

    def listed():
        row = api(None).get("/api/listings/", {"fresh": os.urandom(4).hex()}).json()
        return row["results"][0]["average_rating"], row["results"][0]["review_count"]

    assert listed() == (None, 0)
    first, second = make_user("guest"), make_user("guest")
    url = f"/api/listings/{listing.pk}/reviews/"
    assert api(first).post(url, {"rating": 5}, format="json").status_code == 201
    assert api(second).post(url, {"rating": 2}, format="json").status_code == 201
    assert listed() == (3.5, 2)
    review = Review.objects.get(author=second)  # as the admin edits and deletes
    review.rating = 4
    review.save()
    assert listed() == (4.5, 2)
    review.delete()
    assert listed() == (5.0, 1)
    # The host edits the listing: the stored rating is not written back from an old copy.
    stale = api(listing.host).get(f"/api/listings/{listing.pk}/").json()
    assert stale["review_count"] == 1
    Review.objects.create(listing=listing, author=second, rating=1)
    edited = api(listing.host).patch(f"/api/listings/{listing.pk}/", {"title": "Renamed"},
                                     format="json")
    assert edited.status_code == 200
    assert listed() == (3.0, 2)
