"""Top-level routes. Each door owns its own urls module; the order matters only for `/console/`
and `/static/`, which must win over the per-pool `/<pool_id>/…` routes. The JSON API answers at the
site root itself (`POST /`), as Cognito's does."""

from django.urls import include, path

urlpatterns = [
    path("console/", include("console.urls")),
    path("", include("api.urls")),
    path("", include("hostedui.urls")),
]
