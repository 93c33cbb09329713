import pytest
from django.core.management import call_command

from accounts.models import User
from chats.models import Message
from listings.models import Booking, Listing

pytestmark = pytest.mark.django_db


def test_seed_sizes_by_flags():
    call_command("seed", users=10, listings=4, bookings=12, conversations=3, messages=5)
    assert User.objects.filter(email__endswith="@seed.prodev.dev").count() == 10
    assert Listing.objects.count() == 4
    assert Booking.objects.count() == 12  # non-overlapping by construction
    assert Message.objects.count() == 15
    call_command("seed", users=5, listings=0, bookings=0, conversations=0, reset=True)
    assert User.objects.filter(email__endswith="@seed.prodev.dev").count() == 5
