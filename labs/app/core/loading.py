"""`FastLoadMixin`: models loaded from query rows without going through `Model.__init__`.

Django builds every instance a query returns with `cls(*values)`: `__init__` sends pre_init
and post_init, walks every concrete field (a DEFERRED marker for each column `.only()` left
out) and sets each value through the field's descriptor. For a page of 20 listings with
their hosts that is 40 instances and about a quarter of the request's Python time.
`Model.from_db` is the hook Django documents for customising how rows become instances;
this one writes the loaded values straight into the instance's `__dict__`, which is where
those descriptors put them on a fresh instance, and sets `_state` as `from_db` does.

It does so only where the result is the same: the model keeps Django's `__init__`, every
concrete field's attribute is Django's plain (or foreign-key) deferred attribute, and
nothing listens to pre_init or post_init for the model (checked on every load, so a receiver
connected later is honoured). Otherwise, Django's own `from_db`.
"""

from __future__ import annotations

import inspect
from typing import Self

from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

# Exactly these: ForeignKeyDeferredAttribute.__set__ only drops a cached related object (a
# fresh instance has none). Any other descriptor (FileField's, a custom one) may do more.
PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)


class FastLoadMixin:
    _fast_load_names: dict[tuple[str, ...], tuple[str, ...]]
    _fast_load_ok: bool

    @classmethod
    def from_db(cls, db: str, field_names, values, *, fetch_mode=None) -> Self:
        names = cls._loaded_names(field_names, len(values))
        if names is None or ((pre_init.receivers or post_init.receivers)  # usually none
                             and (pre_init.has_listeners(cls) or post_init.has_listeners(cls))):
            return super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        new = cls.__new__(cls)
        state = ModelState()
        state.adding = False
        state.db = db
        if fetch_mode is not None:
            state.fetch_mode = fetch_mode
        attrs = new.__dict__
        attrs["_state"] = state
        attrs.update(zip(names, values, strict=True))
        return new

    @classmethod
    def _loaded_names(cls, field_names, count: int) -> tuple[str, ...] | None:
        """The attribute of each value, in order; None where Django's way is needed."""
        if "_fast_load_ok" not in cls.__dict__:
            cls._fast_load_ok = cls._plain_model()
            cls._fast_load_names = {}
        if not cls._fast_load_ok:
            return None
        key = tuple(field_names) if count != len(cls._meta.concrete_fields) else ()
        names = cls._fast_load_names.get(key)
        if names is None:
            fields = cls._meta.concrete_fields
            # Django's from_db: all columns come in field order; fewer are the fields named,
            # still in field order (the others stay deferred).
            names = tuple(f.attname for f in fields if not key or f.attname in field_names)
            if len(names) != count:
                return None
            cls._fast_load_names[key] = names
        return names

    @classmethod
    def _plain_model(cls) -> bool:
        if cls.__init__ is not Model.__init__:
            return False
        for field in cls._meta.concrete_fields:
            descriptor = inspect.getattr_static(cls, field.attname, None)
            if type(descriptor) not in PLAIN_DESCRIPTORS:
                return False
        return True
