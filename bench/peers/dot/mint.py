"""Migrate the DOT peer's database and mint what the bench needs, as a completed
authorization-code flow would leave it: a user, a confidential RS256 application (its secret
hashed, DOT's default) and one access + refresh token pair per line of the output file.

    DJANGO_SETTINGS_MODULE=bench.peers.dot.settings python -m bench.peers.dot.mint OUT COUNT

Prints the client id and secret as JSON."""

import datetime as dt
import json
import secrets
import sys

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from oauth2_provider.models import AccessToken, Application, RefreshToken  # noqa: E402


def main() -> None:
    out, count = sys.argv[1], int(sys.argv[2])
    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench", password=secrets.token_urlsafe(16))
    secret = secrets.token_urlsafe(32)
    app = Application.objects.create(
        name="bench-app",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://rp.example/callback",
        client_secret=secret,
        algorithm=Application.RS256_ALGORITHM,
    )
    expires = timezone.now() + dt.timedelta(hours=1)
    tokens = []
    for _ in range(count):
        access = AccessToken.objects.create(
            user=user,
            application=app,
            token=secrets.token_urlsafe(30),
            expires=expires,
            scope="openid read",
        )
        refresh = RefreshToken.objects.create(
            user=user, application=app, token=secrets.token_urlsafe(30), access_token=access
        )
        tokens.append(refresh.token)
    with open(out, "w") as handle:
        handle.write("\n".join(tokens) + "\n")
    print(json.dumps({"client_id": app.client_id, "client_secret": secret}))


if __name__ == "__main__":
    main()
