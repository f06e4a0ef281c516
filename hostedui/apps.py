from django.apps import AppConfig


class HostedUiConfig(AppConfig):
    name = "hostedui"
    verbose_name = "Hosted UI and OAuth 2.0 / OIDC endpoints"
