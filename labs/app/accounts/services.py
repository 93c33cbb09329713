"""Writes for accounts."""

from django.db import transaction

from .models import User


@transaction.atomic
def user_create(*, email: str, password: str, first_name: str = "", last_name: str = "",
                phone_number: str = "", role: str = User.Role.GUEST) -> User:
    if role not in (User.Role.GUEST, User.Role.HOST):
        # Sign-up can make guests and hosts; admins and moderators are appointed.
        raise ValueError("role must be guest or host")
    return User.objects.create_user(
        email=email, password=password, first_name=first_name, last_name=last_name,
        phone_number=phone_number, role=role,
    )
