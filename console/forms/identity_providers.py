"""Identity provider forms. The ProviderDetails fields of a type are the keys
pool.services.identity_providers takes for it (its REQUIRED and OPTIONAL tables); every rule
(required keys, URLs, scopes, the secrets an update keeps) is checked there. Secrets are
write-only: never rendered back, and a blank one keeps the stored value."""

from __future__ import annotations

from django import forms

from console.forms.fields import LineListField
from pool.models import IdentityProvider, ProviderType, UserPool
from pool.models.federation import SECRET_DETAIL_KEYS
from pool.services import identity_providers as idp_services

BOOLEAN_KEYS = ("attributes_url_add_attributes", "IDPSignout", "IDPInit", "EncryptedResponses")
METHOD_KEYS = ("attributes_request_method", "token_request_method")
LONG_KEYS = ("MetadataFile", "private_key")
# Labels and help of the ProviderDetails keys (anything else is shown by its Cognito name).
LABELS: dict[str, tuple[str, str]] = {
    "client_id": ("Client id", "The id the provider gave this pool's app."),
    "client_secret": ("Client secret", ""),
    "authorize_scopes": ("Scopes", "Separated by spaces, e.g. openid email profile."),
    "attributes_request_method": ("User info request method", ""),
    "oidc_issuer": (
        "Issuer URL",
        "Its /.well-known/openid-configuration gives the endpoints unless all four are given.",
    ),
    "authorize_url": ("Authorization endpoint", ""),
    "token_url": ("Token endpoint", ""),
    "attributes_url": ("User info endpoint", ""),
    "jwks_uri": ("JWKS URI", ""),
    "token_request_method": ("Token request method", ""),
    "attributes_url_add_attributes": ("Ask the user info endpoint for the mapped attributes", ""),
    "api_version": ("Graph API version", "Like v17.0."),
    "team_id": ("Team id", "Your Apple developer team id."),
    "key_id": ("Key id", "The id of the Sign in with Apple key."),
    "private_key": ("Private key", "The PEM of the key's .p8 file."),
    "MetadataURL": ("Metadata URL", "The IdP's SAML metadata, fetched when needed."),
    "MetadataFile": ("Metadata document", "Or paste the IdP's metadata XML here."),
    "IDPSignout": ("Sign out at the IdP too (single logout)", ""),
    "IDPInit": ("Accept IdP-initiated sign-in", ""),
    "EncryptedResponses": ("Require encrypted assertions", ""),
    "RequestSigningAlgorithm": ("Request signing algorithm", "rsa-sha256."),
    "SLORedirectBindingURI": ("Single logout URL (Redirect binding)", ""),
    "SSORedirectBindingURI": ("Single sign-on URL (Redirect binding)", ""),
    "ActiveEncryptionCertificate": ("Active encryption certificate", ""),
}
TYPE_LABELS = {
    ProviderType.OIDC: "OpenID Connect",
    ProviderType.SAML: "SAML 2.0",
    ProviderType.GOOGLE: "Google",
    ProviderType.FACEBOOK: "Facebook",
    ProviderType.LOGIN_WITH_AMAZON: "Login with Amazon",
    ProviderType.SIGN_IN_WITH_APPLE: "Sign in with Apple",
}


def detail_keys(provider_type: str) -> tuple[str, ...]:
    return (*idp_services.REQUIRED[provider_type], *idp_services.OPTIONAL[provider_type])


class SecretTextarea(forms.Textarea):
    """A textarea that never renders its value (a private key is typed, never shown back)."""

    def format_value(self, value):
        return None


class AttributeMappingField(forms.CharField):
    """AttributeMapping typed one per line as `pool attribute = provider attribute`."""

    widget = forms.Textarea(attrs={"rows": 5, "spellcheck": "false"})

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{attribute} = {claim}" for attribute, claim in value.items())
        return value

    def to_python(self, value) -> dict[str, str]:
        mapping: dict[str, str] = {}
        for number, line in enumerate((super().to_python(value) or "").splitlines(), 1):
            if not line.strip():
                continue
            attribute, sign, claim = line.partition("=")
            attribute, claim = attribute.strip(), claim.strip()
            if not sign or not attribute or not claim:
                raise forms.ValidationError(
                    f"Line {number}: write pool attribute = provider attribute."
                )
            if attribute in mapping:
                raise forms.ValidationError(f"Line {number}: {attribute} is mapped twice.")
            mapping[attribute] = claim
        return mapping


class ProviderForm(forms.Form):
    """One provider of `provider_type`: its name, its ProviderDetails, mapping, identifiers."""

    provider_name = forms.CharField(label="Provider name", max_length=32)
    attribute_mapping = AttributeMappingField(
        label="Attribute mapping",
        help_text="One per line: pool attribute = provider attribute, e.g. email = email or "
        "custom:team = department. username = the claim that is the user's id.",
    )
    idp_identifiers = LineListField(
        label="Identifiers",
        help_text="One per line: email domains (example.com) or names that route a user to "
        "this provider on the sign-in page.",
    )
    enabled = forms.BooleanField(
        label="Enabled",
        required=False,
        initial=True,
        help_text="A disabled provider signs nobody in but keeps its settings and linked users.",
    )

    def __init__(
        self,
        *args,
        pool: UserPool,
        provider_type: str,
        provider: IdentityProvider | None = None,
        **kwargs,
    ):
        self.pool = pool
        self.provider_type = provider_type
        self.provider = provider
        self.detail_names = detail_keys(provider_type)
        required = set(idp_services.REQUIRED[provider_type])
        if provider is not None:
            stored = dict(provider.details)
            initial = {
                "provider_name": provider.provider_name,
                "attribute_mapping": provider.attribute_mapping,
                "idp_identifiers": provider.idp_identifiers,
                "enabled": provider.enabled,
            }
        else:
            stored = dict(idp_services.PRESETS.get(provider_type, {}))
            fixed = provider_type not in (ProviderType.OIDC, ProviderType.SAML)
            initial = {"provider_name": provider_type if fixed else "", "enabled": True}
        self.stored_keys = set(stored)
        for key in self.detail_names:
            if key in SECRET_DETAIL_KEYS:
                continue
            initial[key] = (stored.get(key) == "true") if key in BOOLEAN_KEYS else stored.get(key)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        details: dict[str, forms.Field] = {}
        for key in self.detail_names:
            details[key] = self._detail_field(key, key in required, provider)
        # Name first, then the ProviderDetails, then the rest.
        self.fields = {
            "provider_name": self.fields["provider_name"],
            **details,
            **{k: v for k, v in self.fields.items() if k != "provider_name"},
        }
        if provider is not None or provider_type not in (ProviderType.OIDC, ProviderType.SAML):
            self.fields["provider_name"].disabled = True
            self.fields["provider_name"].help_text = (
                "Fixed once created."
                if provider is not None
                else f"A {provider_type} provider is named {provider_type}."
            )

    def _detail_field(self, key: str, required: bool, provider) -> forms.Field:
        label, help_text = LABELS.get(key, (key, ""))
        # The keys the service requires for this type, except a secret an update may keep.
        keeps = provider is not None
        options = {
            "label": label,
            "help_text": help_text,
            "required": required and not (key in SECRET_DETAIL_KEYS and keeps),
        }
        if key in SECRET_DETAIL_KEYS:
            options["help_text"] = (
                "Write-only: leave empty to keep the stored one." if keeps else help_text
            )
            widget = (
                SecretTextarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"})
                if key in LONG_KEYS
                else forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})
            )
            field = forms.CharField(widget=widget, strip=True, **options)
            return field
        if key in BOOLEAN_KEYS:
            field = forms.BooleanField(**options)
        elif key in METHOD_KEYS:
            blank = [] if required else [("", "provider's default")]
            field = forms.ChoiceField(choices=[*blank, ("GET", "GET"), ("POST", "POST")], **options)
        elif key in LONG_KEYS:
            field = forms.CharField(
                widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}), **options
            )
        else:
            field = forms.CharField(max_length=2048, **options)
        return field

    def detail_fields(self) -> list[forms.BoundField]:
        return [self[key] for key in self.detail_names]

    def other_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("attribute_mapping", "idp_identifiers", "enabled")]

    def provider_settings(self) -> dict:
        """What CreateIdentityProvider and UpdateIdentityProvider both take from this form."""
        data = self.cleaned_data
        return {
            "details": self.details(),
            "attribute_mapping": data["attribute_mapping"],
            "idp_identifiers": data["idp_identifiers"],
            "enabled": data["enabled"],
        }

    def details(self) -> dict[str, str]:
        """ProviderDetails as the service takes them (empty values are left out by it)."""
        data = self.cleaned_data
        out: dict[str, str] = {}
        preset = idp_services.PRESETS.get(self.provider_type, {})
        new_version = "api_version" in self.changed_data
        for key in self.detail_names:
            value = data.get(key)
            # A preset's own default is left for the service to fill in; so is an endpoint
            # the operator left alone when the Graph API version changes (it follows it).
            if key in preset and key not in BOOLEAN_KEYS and value == preset[key]:
                continue
            if new_version and key.endswith("_url") and key not in self.changed_data:
                continue
            if key in BOOLEAN_KEYS:
                # Unticked: "false" where the key was set before, else left out as it was.
                if value or key in self.stored_keys:
                    out[key] = "true" if value else "false"
            elif value:
                out[key] = value
        return out


class LinkForm(forms.Form):
    """AdminLinkProviderForUser from the user page: a provider of the pool and the subject."""

    provider_name = forms.ChoiceField(label="Provider")
    subject = forms.CharField(
        label="Provider user id",
        max_length=2048,
        help_text="The user's id at the provider (its sub, NameID, …: Cognito_Subject).",
    )

    def __init__(self, *args, pool: UserPool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider_name"].choices = [
            (p.provider_name, p.provider_name)
            for p in IdentityProvider.objects.filter(pool=pool).order_by("provider_name")
        ]
