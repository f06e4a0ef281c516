from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Cognito JSON API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers every action in the registry (api/registry.py).
        from api import actions  # noqa: F401
