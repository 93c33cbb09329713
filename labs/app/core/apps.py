from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"

    def ready(self) -> None:
        # Registers the schema extensions (core.auth's JWT scheme) before any schema is built.
        from core import schema  # noqa: F401
