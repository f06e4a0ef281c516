from django.apps import AppConfig


class PoolConfig(AppConfig):
    name = "pool"
    verbose_name = "User pools"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the start-up checks on the configuration (EMAIL_URL with DEBUG off, ...).
        import config.checks  # noqa: F401

        # Connects the signals that keep the per-process pool rows current.
        from pool.selectors import pools  # noqa: F401
