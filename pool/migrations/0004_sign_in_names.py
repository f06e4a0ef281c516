"""One register of sign-in names per pool (`SignInName`), and keys recomputed with NFKC.

Existing keys were only lower-cased, so `alicé` written precomposed and decomposed, or
fullwidth `ＡＬＩＣＥ`, were different names. Every key is recomputed with `pool.names.sign_in_key`;
a preferred_username of a user not yet confirmed stops being a sign-in name. Each key then gets
its row in the register, whose unique (pool, key) holds across kinds.

Names that now collide keep their first holder: a user whose stored key was already normal
first, then the oldest. A later user keeps its old username key (so it stays a distinct row
and an operator can find and rename or delete it in the console) and loses a colliding alias.
"""

import django.db.models.deletion
from django.db import migrations, models

from pool.names import sign_in_key

ALIASES = (
    ("email", "email_key"),
    ("phone_number", "phone_number_key"),
    ("preferred_username", "preferred_username_key"),
)


def _recompute_pool(pool, User, SignInName):
    def key(value):
        return sign_in_key(value, case_sensitive=pool.case_sensitive)

    users = list(User.objects.filter(pool_id=pool.pk).order_by("pk"))
    claimed: dict[str, tuple[int, str]] = {}  # key -> (user pk, kind)
    final: dict[int, dict[str, str | None]] = {}
    # Usernames first: those already normal, then the others, oldest first.
    for user in sorted(users, key=lambda u: (key(u.username) != u.username_key, u.pk)):
        new = key(user.username)
        if new in claimed:
            new = user.username_key if user.username_key not in claimed else f"{new}\ufffd{user.pk}"
        claimed[new] = (user.pk, "username")
        final[user.pk] = {"username_key": new}
    for attribute, field in ALIASES:
        for user in users:
            value = getattr(user, attribute)
            usable = getattr(user, field) is not None and value
            if attribute == "preferred_username" and user.status == "UNCONFIRMED":
                usable = False
            new = key(value) if usable else None
            if new is not None and claimed.get(new, (user.pk,))[0] != user.pk:
                new = None
            if new is not None:
                claimed.setdefault(new, (user.pk, attribute))
            final[user.pk][field] = new
    fields = ["username_key", *(field for _, field in ALIASES)]
    changed = [
        user
        for user in users
        if any(getattr(user, field) != final[user.pk][field] for field in fields)
    ]
    # Park the changed rows' keys first, so that no intermediate state collides.
    for user in changed:
        User.objects.filter(pk=user.pk).update(
            username_key=f"\ufffdmigrating{user.pk}",
            email_key=None,
            phone_number_key=None,
            preferred_username_key=None,
        )
    for user in changed:
        User.objects.filter(pk=user.pk).update(**final[user.pk])
    SignInName.objects.bulk_create(
        (
            SignInName(pool_id=pool.pk, key=k, user_id=pk, kind=kind)
            for k, (pk, kind) in claimed.items()
        ),
        batch_size=1000,
    )


def forwards(apps, schema_editor):
    UserPool = apps.get_model("pool", "UserPool")
    User = apps.get_model("pool", "User")
    SignInName = apps.get_model("pool", "SignInName")
    for pool in UserPool.objects.all():
        _recompute_pool(pool, User, SignInName)


class Migration(migrations.Migration):
    dependencies = [("pool", "0003_client_settings")]

    operations = [
        migrations.CreateModel(
            name="SignInName",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=2048)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("username", "Username"),
                            ("email", "Email"),
                            ("phone_number", "Phone Number"),
                            ("preferred_username", "Preferred Username"),
                        ],
                        max_length=24,
                    ),
                ),
                (
                    "pool",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="pool.userpool",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sign_in_names",
                        to="pool.user",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("pool", "key"), name="sign_in_name_unique_key"
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
    ]
