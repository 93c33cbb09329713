"""Writes for the CRM; each raises CrmValidationError with a message meant for the client."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from .models import Customer, Order, Product

# +251911234567, 0911234567, 123-456-7890
PHONE_PATTERN = re.compile(r"^(\+\d{7,15}|\d{10}|\d{3}-\d{3}-\d{4})$")


MAX_NAME = 200  # the models' max_length
MAX_EMAIL = 254
MAX_BULK_ROWS = 100
MAX_ORDER_PRODUCTS = 50
MAX_PRICE = Decimal("99999999.99")  # max_digits=10, decimal_places=2


class CrmValidationError(Exception):
    pass


def _ids(values: list, what: str) -> list[uuid.UUID]:
    """Primary keys as UUIDs; a malformed one is the client's error, not the database's."""
    try:
        return [value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
                for value in values]
    except ValueError:
        raise CrmValidationError(f"Invalid {what} ID(s): {', '.join(map(str, values))}"
                                 ) from None


def customer_create(*, name: str, email: str, phone: str | None = None) -> Customer:
    name = (name or "").strip()
    if not name:
        raise CrmValidationError("Name is required.")
    if len(name) > MAX_NAME:
        raise CrmValidationError(f"Name is longer than {MAX_NAME} characters.")
    try:
        if len(email or "") > MAX_EMAIL:
            raise DjangoValidationError("too long")
        validate_email(email)
    except DjangoValidationError as exc:
        raise CrmValidationError(f"Invalid email: {email}") from exc
    if phone and not PHONE_PATTERN.match(phone):
        raise CrmValidationError(
            f"Invalid phone {phone}: use +<digits>, 10 digits or 123-456-7890.")
    if Customer.objects.filter(email__iexact=email).exists():
        raise CrmValidationError("Email already exists.")
    return Customer.objects.create(name=name, email=email, phone=phone or "")


def customers_bulk_create(*, rows: list[dict]) -> tuple[list[Customer], list[str]]:
    """Create every valid row; report the others. One bad row does not undo the rest."""
    if len(rows) > MAX_BULK_ROWS:
        raise CrmValidationError(f"At most {MAX_BULK_ROWS} customers at once.")
    created: list[Customer] = []
    errors: list[str] = []
    for index, row in enumerate(rows):
        try:
            with transaction.atomic():
                created.append(customer_create(**row))
        except CrmValidationError as exc:
            errors.append(f"Row {index + 1} ({row.get('email')}): {exc}")
    return created, errors


def product_create(*, name: str, price: Decimal, stock: int = 0) -> Product:
    if not (name or "").strip():
        raise CrmValidationError("Name is required.")
    if len(name.strip()) > MAX_NAME:
        raise CrmValidationError(f"Name is longer than {MAX_NAME} characters.")
    if price is not None and (not price.is_finite() or abs(price) > MAX_PRICE):
        raise CrmValidationError(f"Price must be at most {MAX_PRICE}.")
    # BEGIN SOLUTION lesson 1
    if price is None or price <= 0:
        raise CrmValidationError("Price must be positive.")
    if stock is None or stock < 0:
        raise CrmValidationError("Stock cannot be negative.")
    # STARTER
    # # TODO: the price must be positive and the stock not negative
    # END SOLUTION
    return Product.objects.create(name=name.strip(), price=price, stock=stock)


@transaction.atomic
def order_create(*, customer_id, product_ids: list, order_date: datetime | None = None) -> Order:
    try:
        [customer_pk] = _ids([customer_id], "customer")
    except CrmValidationError:
        raise CrmValidationError(f"Invalid customer ID: {customer_id}") from None
    customer = Customer.objects.filter(pk=customer_pk).first()
    if customer is None:
        raise CrmValidationError(f"Invalid customer ID: {customer_id}")
    if not product_ids:
        raise CrmValidationError("Select at least one product.")
    if len(product_ids) > MAX_ORDER_PRODUCTS:
        raise CrmValidationError(f"At most {MAX_ORDER_PRODUCTS} products in one order.")
    wanted = _ids(product_ids, "product")
    products = list(Product.objects.filter(pk__in=wanted))
    found = {p.pk for p in products}
    missing = [str(pid) for pid, key in zip(product_ids, wanted, strict=True)
               if key not in found]
    if missing:
        raise CrmValidationError(f"Invalid product ID(s): {', '.join(missing)}")
    order = Order.objects.create(
        customer=customer, order_date=order_date or timezone.now(),
        # BEGIN SOLUTION lesson 1
        total_amount=sum((p.price for p in products), Decimal("0")),
        # STARTER
        # total_amount=Decimal("0"),  # TODO: the sum of the products' prices
        # END SOLUTION
    )
    order.products.set(products)
    return order
