"""Routes on a pool's own host name (hostedui.hosts): the pool's hosted pages and OAuth
endpoints at Cognito's paths (`/login`, `/oauth2/authorize`, …), the same list as under
`/{pool_id}/` in config.urls; the pool comes from the host. Nothing else is served there."""

from django.urls import include, path

from hostedui.urls import hosted

urlpatterns = [path("", include((hosted, "hostedui")))]
