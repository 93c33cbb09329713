"""`FastReadMixin`: DRF's output for a ModelSerializer, at a fraction of DRF's cost per row.

On every request DRF builds each serializer's fields (model introspection and a deepcopy of
the declared ones, twice for a nested serializer) and then, for every field of every row,
goes through its generic attribute lookup. For a page of 20 messages that is most of the
request's Python time. This mixin builds a plan once per class, from DRF's own fields:

- plain fields (text, UUID, numbers, booleans, dates, decimals, choices) read the attribute
  and call the field's own `to_representation` (none of these uses the request);
- primary-key relations read the foreign key column (`listing_id`), as DRF's pk-only
  optimisation does;
- nested serializers that use this mixin (one, or many: a related manager) are read the
  same way;
- date-times in DRF's default ISO 8601 output: converted to the current time zone, looked up
  once per list (DRF looks it up for every value, through a thread-local: most of the
  field's cost) by the list serializer the mixin gives its serializers (`many=True`);
- anything else, or an attribute that is missing (e.g. an annotation on an instance that
  was not loaded through the selector), goes through DRF's own code for that field.

The output is DRF's, value for value (tests/test_fast_serializers.py compares them). Only
for serializers whose fields do not depend on the context or the instance; writes and
validation are DRF's, untouched.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, serializers
from rest_framework import fields as f
from rest_framework.relations import PrimaryKeyRelatedField
from rest_framework.settings import api_settings

# Field classes (exactly these, not subclasses) whose to_representation reads only the value.
PLAIN = (f.CharField, f.EmailField, f.SlugField, f.UUIDField, f.IntegerField, f.FloatField,
         f.BooleanField, f.DateTimeField, f.DateField, f.DecimalField, f.ChoiceField)
PLAIN_FIELD, PK_FIELD, NESTED, DATETIME, DRF = range(5)
UNSET = object()


class FastListSerializer(serializers.ListSerializer):
    """DRF's ListSerializer, with one lookup context (the time zone) for the whole list."""

    def to_representation(self, data) -> list[dict[str, Any]]:
        iterable = data.all() if isinstance(data, models.manager.BaseManager) else data
        represent, context = self.child.represent, {}
        return [represent(item, context) for item in iterable]


class FastReadMixin:
    _read_plan: list[tuple[str, int, str, Any]]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        meta = cls.__dict__.get("Meta")
        if meta is not None and not hasattr(meta, "list_serializer_class"):
            meta.list_serializer_class = FastListSerializer  # many=True

    @classmethod
    def read_plan(cls) -> list[tuple[str, int, str, Any]]:
        """[(output name, kind, attribute, field)], built once per class."""
        plan = cls.__dict__.get("_read_plan")
        if plan is None:
            plan = []
            model = getattr(getattr(cls, "Meta", None), "model", None)
            for name, field in cls().fields.items():
                if field.write_only:
                    continue
                plan.append((name, *cls._kind(field, model)))
            cls._read_plan = plan
        return plan

    @staticmethod
    def _kind(field: f.Field, model) -> tuple[int, str, Any]:
        attrs = field.source_attrs
        if len(attrs) != 1:  # dotted sources and source="*"
            return DRF, "", None
        source = attrs[0]
        if type(field) is PrimaryKeyRelatedField and field.pk_field is None \
                and field.use_pk_only_optimization() and model is not None:
            try:
                return PK_FIELD, model._meta.get_field(source).attname, field
            except Exception:  # not a model field (a property): DRF's way
                return DRF, "", None
        if isinstance(field, FastReadMixin) or (
                isinstance(field, serializers.ListSerializer)
                and isinstance(field.child, FastReadMixin)):
            return NESTED, source, field
        if (type(field) is f.DateTimeField and not hasattr(field, "timezone")
                and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower()
                == ISO_8601):
            return DATETIME, source, field
        if type(field) in PLAIN and not (type(field) is f.UUIDField
                                         and field.uuid_format != "hex_verbose"):
            return PLAIN_FIELD, source, field
        return DRF, "", None

    def to_representation(self, instance) -> dict[str, Any]:
        return self.represent(instance, {})

    def represent(self, instance, context: dict[str, Any]) -> dict[str, Any]:
        """to_representation, with `context` shared by the rows of one list."""
        ret: dict[str, Any] = {}
        for name, kind, attr, field in self.read_plan():
            if kind != DRF:
                try:
                    value = getattr(instance, attr)
                except AttributeError:  # DRF knows the default, or why it is missing
                    kind = DRF
                else:
                    if value is None:
                        ret[name] = None
                    elif kind == PK_FIELD:
                        ret[name] = value
                    elif kind == PLAIN_FIELD and callable(value):
                        kind = DRF  # a method as source: DRF calls it
                    elif kind == DATETIME:
                        ret[name] = _iso_datetime(value, context, field)
                    elif kind == NESTED and isinstance(field, FastReadMixin):
                        ret[name] = field.represent(value, context)
                    else:
                        ret[name] = field.to_representation(value)
            if kind == DRF:
                ret.update(self._drf_field(name, instance))
        return ret

    def _drf_field(self, name: str, instance) -> dict[str, Any]:
        """One field the way serializers.Serializer.to_representation does it."""
        field = self.fields[name]
        try:
            attribute = field.get_attribute(instance)
        except f.SkipField:
            return {}
        check = attribute.pk if isinstance(attribute, serializers.PKOnlyObject) else attribute
        return {name: None if check is None else field.to_representation(attribute)}


def _iso_datetime(value, context: dict[str, Any], field: f.DateTimeField) -> str:
    """DateTimeField.to_representation for an aware datetime in the current time zone."""
    tz = context.get("tz", UNSET)
    if tz is UNSET:
        tz = context["tz"] = timezone.get_current_timezone() if settings.USE_TZ else None
    if tz is None or not isinstance(value, datetime) or value.utcoffset() is None:
        return field.to_representation(value)  # naive values, USE_TZ off, strings: DRF's
    try:
        text = value.astimezone(tz).isoformat()
    except OverflowError:
        return field.to_representation(value)  # DRF's error
    return text[:-6] + "Z" if text.endswith("+00:00") else text
