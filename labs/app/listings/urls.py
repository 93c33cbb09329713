from rest_framework.routers import DefaultRouter

from .views import BookingViewSet, ListingViewSet

router = DefaultRouter()
router.register(r"listings", ListingViewSet, basename="listing")
router.register(r"bookings", BookingViewSet, basename="booking")

urlpatterns = router.urls
