from django.urls import path

from .views import MeView, RefreshTokenView, SignupView, TokenView

urlpatterns = [
    path("auth/signup/", SignupView.as_view(), name="signup"),
    path("auth/token/", TokenView.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", RefreshTokenView.as_view(), name="token_refresh"),
    path("auth/me/", MeView.as_view(), name="me"),
]
