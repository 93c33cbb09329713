"""A listing's stored rating follows its reviews, however a review is written or removed
(the API, the admin, a cascade)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Review
from .services import refresh_ratings


@receiver(post_save, sender=Review, dispatch_uid="listings.review_saved")
@receiver(post_delete, sender=Review, dispatch_uid="listings.review_deleted")
def review_changed(sender, instance: Review, **kwargs) -> None:
    refresh_ratings(instance.listing_id)
