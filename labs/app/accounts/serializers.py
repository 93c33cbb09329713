from django.contrib.auth.password_validation import validate_password
from rest_framework import serializers

from core.serializers import FastReadMixin

from .models import User


class UserSerializer(FastReadMixin, serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("user_id", "email", "first_name", "last_name", "phone_number", "role")
        read_only_fields = fields


class PublicUserSerializer(FastReadMixin, serializers.ModelSerializer):
    """What anyone, signed in or not, may see of a host or a reviewer: no contact details."""

    class Meta:
        model = User
        fields = ("user_id", "first_name")
        read_only_fields = fields


class SignupSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, validators=[validate_password])
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    phone_number = serializers.CharField(required=False, allow_blank=True, max_length=20)
    role = serializers.ChoiceField(choices=[User.Role.GUEST, User.Role.HOST],
                                   default=User.Role.GUEST)

    def validate_email(self, email: str) -> str:
        if User.objects.filter(email__iexact=email).exists():
            raise serializers.ValidationError("A user with this email already exists.")
        return email
