"""App client and resource server forms; the rules are checked by pool.services.app_clients and
pool.services.resource_servers."""

from __future__ import annotations

from typing import Any

from django import forms

from console.forms.fields import DurationField, LineListField
from pool.models import AppClient, IdentityProvider, ResourceServer, UserPool
from pool.models.client import EXPLICIT_AUTH_FLOWS, OAUTH_FLOWS, STANDARD_SCOPES
from pool.services.pools import pool_attribute_names

FLOW_LABELS = {
    "code": "Authorization code grant",
    "implicit": "Implicit grant",
    "client_credentials": "Client credentials",
}


def _boxes(label: str, **kwargs) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, required=False, widget=forms.CheckboxSelectMultiple, **kwargs
    )


class ClientForm(forms.Form):
    """An app client's settings. `creating` adds the choice of a secret, made only at creation."""

    name = forms.CharField(max_length=128)
    generate_secret = forms.BooleanField(
        label="Generate a client secret (confidential client)", required=False
    )
    callback_urls = LineListField(
        label="Callback URLs",
        help_text="One per line. https; http on localhost, 127.0.0.1 or [::1]; or a native "
        "app's own scheme (com.example.app:/callback). A callback on 127.0.0.1 or [::1] also "
        "matches on any other port (RFC 8252: the app listens where the system lets it); "
        "localhost keeps its exact port.",
    )
    default_redirect_uri = forms.CharField(
        label="Default redirect URI", required=False, max_length=1024
    )
    logout_urls = LineListField(label="Sign-out URLs", help_text="One per line.")
    allowed_oauth_flows = _boxes(
        "OAuth grant types", choices=[(f, FLOW_LABELS[f]) for f in OAUTH_FLOWS]
    )
    allowed_oauth_flows_user_pool_client = forms.BooleanField(
        label="OAuth flows enabled for this client", required=False
    )
    allowed_oauth_scopes = _boxes("OAuth scopes")
    supported_identity_providers = _boxes(
        "Identity providers",
        help_text="Where users of this client sign in: COGNITO is the pool's own accounts; the "
        "others are the pool's identity providers (a disabled one is not offered).",
    )
    require_pkce = forms.BooleanField(
        label="Require PKCE from public clients",
        required=False,
        help_text="Stricter than Cognito, which lets a client without a secret skip PKCE. "
        "Without PKCE, an authorization code seen by someone else (another app on the device, "
        "a log, a proxy) can be exchanged for the user's tokens. Switch off only for an app "
        "written for Cognito that cannot send a code_challenge.",
    )
    explicit_auth_flows = _boxes(
        "Authentication flows (API)", choices=[(f, f) for f in EXPLICIT_AUTH_FLOWS]
    )
    read_attributes = _boxes("Readable attributes", help_text="None ticked: all attributes.")
    write_attributes = _boxes(
        "Writable attributes", help_text="None ticked: all mutable attributes."
    )
    access_token_validity = DurationField(label="Access token lifetime", help_text="5 min – 1 day.")
    id_token_validity = DurationField(label="ID token lifetime", help_text="5 min – 1 day.")
    refresh_token_validity = DurationField(
        label="Refresh token lifetime", help_text="1 hour – 10 years."
    )
    auth_session_validity = DurationField(
        label="Sign-in session lifetime", help_text="3 – 15 minutes."
    )
    enable_token_revocation = forms.BooleanField(label="Token revocation", required=False)
    refresh_token_rotation = forms.BooleanField(
        label="Rotate refresh tokens (a reused one revokes its family)", required=False
    )
    refresh_token_retry_grace_seconds = forms.IntegerField(
        label="Refresh retry grace period (seconds)",
        required=False,
        help_text="0 – 60, with rotation. For this long after a refresh token is replaced, it "
        "still refreshes (a client retrying a lost answer, several tabs at once); later, "
        "presenting it again signs that session out. 0: the first reuse does.",
    )
    logo_url = forms.CharField(label="Hosted page logo URL", required=False, max_length=200)
    brand_color = forms.CharField(
        label="Hosted page colour", required=False, max_length=7, help_text="Like #2f5bd3."
    )

    SECTIONS = (
        ("Client", ("name", "generate_secret")),
        (
            "Hosted UI and OAuth",
            (
                "callback_urls",
                "logout_urls",
                "default_redirect_uri",
                "allowed_oauth_flows_user_pool_client",
                "allowed_oauth_flows",
                "allowed_oauth_scopes",
                "supported_identity_providers",
                "require_pkce",
            ),
        ),
        ("Authentication", ("explicit_auth_flows",)),
        (
            "Token lifetimes",
            (
                "access_token_validity",
                "id_token_validity",
                "refresh_token_validity",
                "auth_session_validity",
                "enable_token_revocation",
                "refresh_token_rotation",
                "refresh_token_retry_grace_seconds",
            ),
        ),
        ("Attributes", ("read_attributes", "write_attributes")),
        ("Branding", ("logo_url", "brand_color")),
    )

    def __init__(self, *args, pool: UserPool, client: AppClient | None = None, **kwargs):
        source = client or AppClient(pool=pool)
        kwargs.setdefault(
            "initial",
            {name: getattr(source, name) for name in self.base_fields if hasattr(source, name)},
        )
        super().__init__(*args, **kwargs)
        self.creating = client is None
        if not self.creating:
            del self.fields["generate_secret"]
        custom_scopes = [
            scope
            for server in ResourceServer.objects.filter(pool=pool)
            for scope in server.full_scopes
        ]
        self.fields["allowed_oauth_scopes"].choices = [
            (s, s) for s in (*STANDARD_SCOPES, *custom_scopes)
        ]
        providers = IdentityProvider.objects.filter(pool=pool).order_by("provider_name")
        self.fields["supported_identity_providers"].choices = [
            ("COGNITO", "COGNITO (user pool accounts)"),
            *(
                (
                    p.provider_name,
                    f"{p.provider_name} ({p.provider_type}"
                    + ("" if p.enabled else ", disabled")
                    + ")",
                )
                for p in providers
            ),
        ]
        attributes = [(a, a) for a in pool_attribute_names(pool)]
        self.fields["read_attributes"].choices = attributes
        self.fields["write_attributes"].choices = attributes

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in self.SECTIONS
        ]

    def clean_refresh_token_retry_grace_seconds(self) -> int:
        value = self.cleaned_data["refresh_token_retry_grace_seconds"]
        return 0 if value is None else value

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ScopeListField(LineListField):
    """Scopes typed one per line as `name description…`."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(
                f"{s['name']} {s['description']}"
                if s.get("description") not in (None, "", s["name"])
                else s["name"]
                for s in value
            )
        return value

    def to_python(self, value) -> list[dict[str, str]]:
        scopes = []
        for line in super().to_python(value):
            name, _, description = line.partition(" ")
            scopes.append({"name": name, "description": description.strip() or name})
        return scopes


class ResourceServerForm(forms.Form):
    identifier = forms.CharField(
        max_length=256, help_text="Usually the API's URL, e.g. https://api.example.com."
    )
    name = forms.CharField(max_length=256)
    scopes = ScopeListField(
        label="Scopes", help_text="One per line: the scope name, a space, then a description."
    )

    def __init__(self, *args, server: ResourceServer | None = None, **kwargs):
        if server is not None:
            kwargs.setdefault(
                "initial",
                {"identifier": server.identifier, "name": server.name, "scopes": server.scopes},
            )
        super().__init__(*args, **kwargs)
        if server is not None:
            self.fields["identifier"].disabled = True
            self.fields["identifier"].help_text = "Fixed once created."
