"""Top-level routes. Each door owns its own urls module; the order matters only for `/console/`,
the operating endpoints (config/ops.py) and `/static/`, which must win over the per-pool
`/<pool_id>/…` routes. The JSON API answers at the site root itself (`POST /`), as Cognito's
does."""

from django.urls import include, path

from config import ops

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics_view, name="metrics"),
    path("console/", include("console.urls")),
    path("", include("api.urls")),
    path("", include("hostedui.urls")),
]
