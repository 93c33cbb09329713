"""core.loading: models built from rows without Model.__init__, the same as Django's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Model
from django.db.models.signals import post_init

from accounts.models import User
from core.loading import FastLoadMixin
from listings.models import Listing

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(host):
    return Listing.objects.create(host=host, title="Lake house", location="Bishoftu",
                                  price_per_night=Decimal("1500.00"))


def django_from_db(model, *args):
    """What Django's own Model.from_db makes of the same row."""
    return Model.from_db.__func__(model, *args)


def state(obj) -> dict:
    return {k: v for k, v in vars(obj).items() if k != "_state"} | {
        "adding": obj._state.adding, "db": obj._state.db}


def test_every_app_model_loads_the_fast_way():
    from django.apps import apps

    ours = [m for m in apps.get_models() if m.__module__.split(".")[0] in
            ("accounts", "listings", "chats", "payments")]
    assert ours and all(issubclass(m, FastLoadMixin) and m._plain_model() for m in ours)


def test_loaded_instances_are_djangos(listing):
    fields = [f.attname for f in Listing._meta.concrete_fields]
    row = Listing.objects.filter(pk=listing.pk).values_list(*fields).get()
    fast = Listing.from_db("default", fields, row)
    assert state(fast) == state(django_from_db(Listing, "default", fields, row))
    assert not fast._state.adding and fast._state.db == "default"


def test_deferred_columns_stay_deferred_and_load_on_access(listing):
    fast = User.objects.only("first_name").get(pk=listing.host_id)
    assert fast.get_deferred_fields() == (
        {f.attname for f in User._meta.concrete_fields} - {"user_id", "first_name"})
    assert fast.email == listing.host.email  # a query, as Django does for a deferred field


def test_a_loaded_instance_saves_as_an_update(listing):
    loaded = Listing.objects.get(pk=listing.pk)
    loaded.title = "Lake house, renovated"
    loaded.save()
    assert Listing.objects.count() == 1
    assert Listing.objects.get(pk=listing.pk).title == "Lake house, renovated"
    assert loaded.host.pk == listing.host_id  # the foreign key descriptor works


def test_init_signal_receivers_are_honoured(listing):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.title)

    post_init.connect(receiver, sender=Listing)
    try:
        Listing.objects.get(pk=listing.pk)
    finally:
        post_init.disconnect(receiver, sender=Listing)
    assert seen == ["Lake house"]


def test_a_field_with_its_own_descriptor_is_set_through_it(listing, monkeypatch):
    class Upper:
        def __get__(self, instance, owner=None):
            return self if instance is None else instance.__dict__["title"]

        def __set__(self, instance, value):
            instance.__dict__["title"] = value.upper()

    monkeypatch.setattr(Listing, "title", Upper())
    monkeypatch.delattr(Listing, "_fast_load_ok", raising=False)
    monkeypatch.delattr(Listing, "_fast_load_names", raising=False)
    assert Listing.objects.get(pk=listing.pk).title == "LAKE HOUSE"
