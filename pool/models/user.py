"""Pool users, their groups and their MFA devices."""

from __future__ import annotations

import uuid

from django.db import models, transaction

from pool.models.pool import UserPool

# Standard attributes kept in their own (indexed) columns: the ones users are searched and
# signed in by. Every other attribute lives in `User.attributes`.
COLUMN_ATTRIBUTES = (
    "email",
    "email_verified",
    "phone_number",
    "phone_number_verified",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
)
STANDARD_ATTRIBUTES = (
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
)
SEARCHABLE_ATTRIBUTES = (
    "username",
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "sub",
)


# Each kind of sign-in name and the User column holding its key (normalised, see `pool.names`;
# set by `pool.policy.refresh_sign_in_key` only while the name may be used to sign in).
SIGN_IN_KEY_FIELDS = {
    "username": "username_key",
    "email": "email_key",
    "phone_number": "phone_number_key",
    "preferred_username": "preferred_username_key",
}


class UserStatus(models.TextChoices):
    UNCONFIRMED = "UNCONFIRMED"
    CONFIRMED = "CONFIRMED"
    FORCE_CHANGE_PASSWORD = "FORCE_CHANGE_PASSWORD"
    RESET_REQUIRED = "RESET_REQUIRED"
    EXTERNAL_PROVIDER = "EXTERNAL_PROVIDER"


class Group(models.Model):
    pool = models.ForeignKey(
        UserPool, on_delete=models.CASCADE, related_name="groups", db_index=False
    )
    name = models.CharField(max_length=128)
    description = models.CharField(max_length=2048, blank=True, default="")
    precedence = models.PositiveIntegerField(null=True, blank=True)
    role_arn = models.CharField(max_length=2048, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "name"], name="group_unique_name")]
        ordering = ["precedence", "name"]

    def __str__(self) -> str:
        return self.name


def _search_index(field: str) -> models.Index:
    return models.Index(fields=["pool", field], name=f"user_{field}_idx"[:30])


class User(models.Model):
    # Its own index, though the unique (pool, username_key) leads with the column too: on
    # PostgreSQL the planner reads a pool's users through it (the custom-attribute search's
    # join: tests/pool/test_search.py), and a user's row is written on sign-up and import,
    # not on sign-in.
    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="users")
    username = models.CharField(max_length=128)
    # The username as this pool compares it (NFKC, lower-cased unless the pool is case-sensitive).
    username_key = models.CharField(max_length=128, editable=False)
    sub = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=24, choices=UserStatus.choices, default=UserStatus.UNCONFIRMED
    )
    enabled = models.BooleanField(default=True)

    # A Django password hash (argon2id for passwords set here; imported formats are upgraded at
    # the next sign-in). Empty for users without a password (federated).
    password = models.CharField(max_length=255, blank=True, default="")
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # Set for temporary passwords (admin-created users); after it they no longer sign in.
    temporary_password_expires_at = models.DateTimeField(null=True, blank=True)
    # SRP verifier for the JSON API's USER_SRP_AUTH: hex salt and encrypted v = g^x mod N.
    srp_salt = models.CharField(max_length=64, blank=True, default="")
    srp_verifier = models.TextField(blank=True, default="")

    # Searchable standard attributes, each indexed per pool.
    email = models.CharField(max_length=2048, blank=True, default="")
    email_verified = models.BooleanField(default=False)
    phone_number = models.CharField(max_length=32, blank=True, default="")
    phone_number_verified = models.BooleanField(default=False)
    name = models.CharField(max_length=2048, blank=True, default="")
    given_name = models.CharField(max_length=2048, blank=True, default="")
    family_name = models.CharField(max_length=2048, blank=True, default="")
    preferred_username = models.CharField(max_length=2048, blank=True, default="")
    # Every other standard attribute and all `custom:` ones, as strings keyed by full name.
    attributes = models.JSONField(default=dict, blank=True)

    # Sign-in keys: set (normalised, `pool.names`) while the attribute may be used to sign in:
    # always for username attributes, once verified for email / phone aliases, once the user is
    # confirmed for a preferred_username alias (`policy.refresh_sign_in_key`). Each key, the
    # username's included, has its row in `SignInName`, unique per pool across all kinds.
    email_key = models.CharField(max_length=2048, null=True, blank=True, editable=False)
    phone_number_key = models.CharField(max_length=32, null=True, blank=True, editable=False)
    preferred_username_key = models.CharField(
        max_length=2048, null=True, blank=True, editable=False
    )

    # MFA settings (UserMFASettingList / PreferredMfaSetting).
    software_token_mfa_enabled = models.BooleanField(default=False)
    sms_mfa_enabled = models.BooleanField(default=False)
    email_mfa_enabled = models.BooleanField(default=False)
    preferred_mfa = models.CharField(max_length=24, blank=True, default="")

    # Global sign-out: sessions and tokens that started before this instant are void.
    tokens_valid_after = models.DateTimeField(null=True, blank=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)

    groups = models.ManyToManyField(Group, related_name="users", blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "username_key"], name="user_unique_username"),
            models.UniqueConstraint(
                fields=["pool", "email_key"],
                condition=models.Q(email_key__isnull=False),
                name="user_unique_email_key",
            ),
            models.UniqueConstraint(
                fields=["pool", "phone_number_key"],
                condition=models.Q(phone_number_key__isnull=False),
                name="user_unique_phone_key",
            ),
            models.UniqueConstraint(
                fields=["pool", "preferred_username_key"],
                condition=models.Q(preferred_username_key__isnull=False),
                name="user_unique_pref_username_key",
            ),
        ]
        indexes = [
            models.Index(fields=["pool", "username"], name="user_username_idx"),
            models.Index(fields=["pool", "email"], name="user_email_idx"),
            models.Index(fields=["pool", "phone_number"], name="user_phone_idx"),
            models.Index(fields=["pool", "name"], name="user_name_idx"),
            models.Index(fields=["pool", "given_name"], name="user_given_name_idx"),
            models.Index(fields=["pool", "family_name"], name="user_family_name_idx"),
            models.Index(fields=["pool", "preferred_username"], name="user_pref_username_idx"),
            # With the id: a `cognito:user_status` search reads its rows in order (on SQLite
            # every index ends with the rowid anyway).
            models.Index(fields=["pool", "status", "id"], name="user_status_idx"),
            models.Index(fields=["pool", "created_at"], name="user_created_idx"),
        ]
        ordering = ["username"]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs):
        """Save, and keep the pool's register of sign-in names (`SignInName`) in step with this
        user's key columns in the same transaction. A key another user holds, in whichever
        column, fails here with IntegrityError: `pool.policy.save_user` turns that into
        Cognito's error."""
        self.username_key = self.pool.normalize(self.username)
        update_fields = kwargs.get("update_fields")
        names = update_fields is None or bool(set(update_fields) & _SIGN_IN_COLUMNS)
        attributes = update_fields is None or "attributes" in update_fields
        if not (names or attributes):
            super().save(*args, **kwargs)
            return
        adding = self._state.adding
        try:
            with transaction.atomic():
                super().save(*args, **kwargs)
                if names:
                    SignInName.sync(self, adding=adding)
                if attributes:
                    sync_attribute_index(self, adding=adding)
        except Exception:
            if adding:  # rolled back: the instance is still unsaved
                self.pk = None
                self._state.adding = True
            raise

    def sign_in_keys(self) -> dict[str, str]:
        """Every name this user signs in with now: normalised key -> kind (username first)."""
        keys: dict[str, str] = {}
        for kind, field in SIGN_IN_KEY_FIELDS.items():
            key = getattr(self, field)
            if key:
                keys.setdefault(key, kind)
        return keys

    @property
    def confirmed(self) -> bool:
        return self.status != UserStatus.UNCONFIRMED

    def get_attribute(self, name: str) -> str | bool | None:
        if name == "sub":
            return str(self.sub)
        if name in COLUMN_ATTRIBUTES:
            value = getattr(self, name)
            return value if isinstance(value, bool) or value else None
        return self.attributes.get(name)

    def attribute_map(self) -> dict[str, str]:
        """Every set attribute as Cognito lists them: name -> string value (`sub` first)."""
        values: dict[str, str] = {"sub": str(self.sub)}
        for name in COLUMN_ATTRIBUTES:
            value = getattr(self, name)
            if isinstance(value, bool):
                source = name.removesuffix("_verified")
                if getattr(self, source):
                    values[name] = "true" if value else "false"
            elif value:
                values[name] = value
        values.update({k: str(v) for k, v in self.attributes.items()})
        return values

    @property
    def mfa_enabled_methods(self) -> list[str]:
        """UserMFASettingList."""
        methods = []
        if self.sms_mfa_enabled:
            methods.append("SMS_MFA")
        if self.software_token_mfa_enabled:
            methods.append("SOFTWARE_TOKEN_MFA")
        if self.email_mfa_enabled:
            methods.append("EMAIL_OTP")
        return methods


_SIGN_IN_COLUMNS = {"username", *SIGN_IN_KEY_FIELDS.values()}


class SignInName(models.Model):
    """The pool's register of sign-in names: one row per name in use, whatever its kind.

    Its unique (pool, key) is what makes a username, a verified email or phone number and a
    preferred_username unique across ALL of them, enforced by the database even when two
    writers race: a sign-up as `ally` cannot capture the name from the user whose
    preferred_username is `ally`. Signing in is one indexed lookup here. Rows are derived from
    the User's key columns by `User.save`; nothing else writes them.
    """

    class Kind(models.TextChoices):
        USERNAME = "username"
        EMAIL = "email"
        PHONE_NUMBER = "phone_number"
        PREFERRED_USERNAME = "preferred_username"

    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=2048)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_in_names")
    kind = models.CharField(max_length=24, choices=Kind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pool", "key"], name="sign_in_name_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"

    @classmethod
    def sync(cls, user: User, *, adding: bool = False) -> None:
        """Make the user's rows match `user.sign_in_keys()` (call inside a transaction)."""
        wanted = user.sign_in_keys()
        held = {} if adding else dict(cls.objects.filter(user=user).values_list("key", "kind"))
        stale = [key for key, kind in held.items() if wanted.get(key) != kind]
        if stale:
            cls.objects.filter(user=user, key__in=stale).delete()
        cls.objects.bulk_create(
            cls(pool_id=user.pool_id, key=key, user=user, kind=kind)
            for key, kind in wanted.items()
            if held.get(key) != kind
        )


# How much of a custom attribute's value its index row keeps: a PostgreSQL btree entry must stay
# under ~2.7 kB, and 512 characters of 4-byte UTF-8 do. Longer values are found by prefix.
ATTRIBUTE_KEY_CHARS = 512


def is_custom_attribute(name: str) -> bool:
    return name.startswith(("custom:", "dev:custom:"))


class UserAttributeIndex(models.Model):
    """One row per custom attribute a user has, so that the console can search custom attributes
    (`custom:tier = "gold"`, or a prefix) with an index range scan instead of reading every
    user's `attributes` JSON. `value_key` is the value as the pool compares names (lower-cased
    unless the pool is case-sensitive; pool_changes rebuilds the rows when that changes), cut to
    ATTRIBUTE_KEY_CHARS; `whole` says it was not cut, so an equality match is exact. Kept by
    `sync_attribute_index`, which `User.save` calls whenever `attributes` may have changed."""

    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, db_index=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="attribute_index")
    name = models.CharField(max_length=32)
    value_key = models.CharField(max_length=ATTRIBUTE_KEY_CHARS)
    whole = models.BooleanField(default=True)
    # Its search index, (pool, name, value_key, user), is made by migration 0006 for each
    # database: on PostgreSQL value_key is indexed COLLATE "C" so that prefix ranges use it.


def attribute_index_rows(user: User) -> set[tuple[str, str, bool]]:
    """(name, value_key, whole) for each custom attribute the user has."""
    rows = set()
    for name, value in (user.attributes or {}).items():
        text = str(value)
        if not is_custom_attribute(name) or not text:
            continue
        key = user.pool.normalize(text)
        rows.add((name, key[:ATTRIBUTE_KEY_CHARS], len(key) <= ATTRIBUTE_KEY_CHARS))
    return rows


def sync_attribute_index(user: User, *, adding: bool = False) -> None:
    """Make the user's UserAttributeIndex rows match `user.attributes` (the user is saved).
    Called by `User.save`, so every path that saves a user's attributes keeps the index."""
    wanted = attribute_index_rows(user)
    if adding:
        have: set[tuple[str, str, bool]] = set()
    else:
        have = set(
            UserAttributeIndex.objects.filter(user=user).values_list("name", "value_key", "whole")
        )
    if wanted == have:
        return
    stale = {name for name, *_ in have - wanted}
    if stale:
        UserAttributeIndex.objects.filter(user=user, name__in=stale).delete()
    fresh = wanted - have
    UserAttributeIndex.objects.bulk_create(
        UserAttributeIndex(pool_id=user.pool_id, user=user, name=n, value_key=k, whole=w)
        for n, k, w in fresh
    )


class RetiredAttributeValue(models.Model):
    """A user's value of a custom attribute removed from the pool's schema with "keep values"
    (pool/services/pool_changes.py): never shown, read or written through any door; kept for
    the operator. Its own table, so that adding it did not rebuild the user table on SQLite
    (which would drop migration 0006's expression indexes)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="retired_values", db_index=False
    )
    name = models.CharField(max_length=32)
    value = models.TextField()
    retired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="retired_value_unique_name")
        ]


class TotpDevice(models.Model):
    """An authenticator app enrolled by a pool user. The seed is encrypted; `last_t` is the last
    accepted time step, so a code is never accepted twice (replay)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="totp_devices")
    name = models.CharField(max_length=64, blank=True, default="Authenticator")
    secret = models.TextField()  # encrypted base32 seed
    confirmed = models.BooleanField(default=False)
    last_t = models.BigIntegerField(default=-1)
    failed_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class Device(models.Model):
    """A device Cognito tracks for a user (DeviceKey `{region}_{uuid}`). Made unconfirmed at an
    API sign-in in a pool that tracks devices; ConfirmDevice stores the device's SRP salt and
    verifier (both encrypted: the verifier allows offline guessing of the device secret) and
    its name; remembered devices can answer DEVICE_SRP_AUTH instead of MFA."""

    key = models.CharField(primary_key=True, max_length=55, editable=False)
    pool = models.ForeignKey(UserPool, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices", db_index=False)
    group_key = models.CharField(max_length=64)
    name = models.CharField(max_length=1024, blank=True, default="")
    salt = models.TextField(blank=True, default="")  # encrypted hex
    verifier = models.TextField(blank=True, default="")  # encrypted hex
    confirmed = models.BooleanField(default=False)
    remembered = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_modified_at = models.DateTimeField(auto_now=True)
    last_authenticated_at = models.DateTimeField(null=True, blank=True)
    last_ip = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["user", "confirmed", "key"], name="device_user_idx")]

    @property
    def remembered_status(self) -> str:
        return "remembered" if self.remembered else "not_remembered"
