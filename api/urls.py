"""The JSON API's one route: the site root, as Cognito's `https://cognito-idp.{region}.amazonaws.com/`."""

from django.urls import path

from api import views

app_name = "api"

urlpatterns = [path("", views.endpoint, name="endpoint")]
