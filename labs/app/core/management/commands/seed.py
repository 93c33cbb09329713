"""Seed data for demos and load tests: `python manage.py seed --users 200 --listings 50`.

Idempotent per run size: every seeded account uses the @seed.prodev.dev domain, and
`--reset` removes them (and what hangs off them) first.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from chats.models import Conversation, Message
from listings.models import Booking, Listing, Review
from listings.services import refresh_ratings

DOMAIN = "seed.prodev.dev"
PASSWORD = "seed-password-123"
CITIES = ["Addis Ababa", "Bahir Dar", "Gondar", "Hawassa", "Lalibela", "Mekelle", "Adama"]


class Command(BaseCommand):
    help = "Create users, listings, bookings, reviews and messages sized by flags."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=20, help="guests and hosts (1 in 5)")
        parser.add_argument("--listings", type=int, default=10)
        parser.add_argument("--bookings", type=int, default=20)
        parser.add_argument("--conversations", type=int, default=10)
        parser.add_argument("--messages", type=int, default=10, help="per conversation")
        parser.add_argument("--seed", type=int, default=42, help="random seed")
        parser.add_argument("--reset", action="store_true", help="delete seeded data first")

    @transaction.atomic
    def handle(self, *args, **opts):
        rng = random.Random(opts["seed"])
        if opts["reset"]:
            deleted, _ = User.objects.filter(email__endswith=f"@{DOMAIN}").delete()
            self.stdout.write(f"removed {deleted} seeded rows")
        password = make_password(PASSWORD)  # hashed once: thousands of users stay fast
        start = User.objects.filter(email__endswith=f"@{DOMAIN}").count()
        users = User.objects.bulk_create(
            User(email=f"user{start + i}@{DOMAIN}", password=password,
                 first_name=f"User{start + i}", last_name="Seed",
                 role=User.Role.HOST if i % 5 == 0 else User.Role.GUEST)
            for i in range(opts["users"])
        )
        hosts = [u for u in users if u.role == User.Role.HOST] or list(
            User.objects.filter(role=User.Role.HOST, email__endswith=f"@{DOMAIN}"))
        guests = [u for u in users if u.role == User.Role.GUEST] or list(
            User.objects.filter(role=User.Role.GUEST, email__endswith=f"@{DOMAIN}"))
        if not hosts or not guests:
            self.stderr.write("need at least one host and one guest (--users 2 or more)")
            return

        listings = Listing.objects.bulk_create(
            Listing(host=rng.choice(hosts), title=f"Stay {i} in {city}", location=city,
                    description="Seeded listing", price_per_night=Decimal(rng.randint(500, 5000)))
            for i, city in ((i, rng.choice(CITIES)) for i in range(opts["listings"]))
        )
        bookings = []
        if listings:
            # Back-to-back stays per listing, so confirmed bookings never overlap.
            next_free = {listing.pk: date.today() + timedelta(days=1) for listing in listings}
            for _ in range(opts["bookings"]):
                listing = rng.choice(listings)
                begin = next_free[listing.pk]
                nights = rng.randint(1, 5)
                next_free[listing.pk] = begin + timedelta(days=nights)
                bookings.append(Booking(listing=listing, guest=rng.choice(guests),
                                        start_date=begin, end_date=begin + timedelta(days=nights),
                                        total_price=listing.price_per_night * nights))
            Booking.objects.bulk_create(bookings)
            reviewed = set()
            reviews = []
            for b in bookings:
                if (b.listing_id, b.guest_id) not in reviewed:
                    reviewed.add((b.listing_id, b.guest_id))
                    reviews.append(Review(listing_id=b.listing_id, author_id=b.guest_id,
                                          rating=rng.randint(1, 5), comment="Seeded review"))
            Review.objects.bulk_create(reviews)  # no signals: recount the ratings at once
            refresh_ratings()

        messages = 0
        everyone = hosts + guests
        for _ in range(opts["conversations"]):
            people = rng.sample(everyone, k=min(2, len(everyone)))
            conversation = Conversation.objects.create()
            conversation.participants.set(people)
            # bulk_create skips the post_save signal: seeded messages make no notifications.
            batch = Message.objects.bulk_create(
                Message(conversation=conversation, sender=rng.choice(people),
                        body=f"Seeded message {n}") for n in range(opts["messages"]))
            messages += len(batch)

        self.stdout.write(self.style.SUCCESS(
            f"seeded {len(users)} users, {len(listings)} listings, {len(bookings)} bookings, "
            f"{opts['conversations']} conversations, {messages} messages "
            f"(password for every seeded user: {PASSWORD})"))
