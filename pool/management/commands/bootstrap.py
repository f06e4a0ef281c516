from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from pool.management.commands._common import CLI, CognateCommand
from pool.models import AppClient, UserPool
from pool.selectors import domains as domain_selectors
from pool.selectors.users import find_for_sign_in
from pool.services import admin, app_clients, passwords, pools

DEMO_POOL = "Demo"
DEMO_CLIENT = "Demo app"
DEMO_USER = "demo"
DEMO_EMAIL = "demo@example.com"
OPERATOR = "admin"


class Command(CognateCommand):
    help = (
        "Idempotently set up a demo: pool 'Demo', public app client 'Demo app' (code flow + "
        "PKCE to {PUBLIC_URL}/demo/callback), user 'demo' with a verified email, and an "
        "operator superuser 'admin' if there is no superuser. Prints the URLs to open and the "
        "credentials it created."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the demo user and the 'admin' operator new passwords, and print them.",
        )

    def run(self, **options):
        reset = options["reset_passwords"]
        base = settings.PUBLIC_URL
        callback, logout = f"{base}/demo/callback", f"{base}/demo/"
        created = {"pool": False, "client": False, "demo_user": False, "admin": False}
        with transaction.atomic():
            pool = UserPool.objects.filter(name=DEMO_POOL).order_by("created_at").first()
            if pool is None:
                pool = pools.create_pool(name=DEMO_POOL, alias_attributes=["email"])
                created["pool"] = True

            client = AppClient.objects.filter(pool=pool, name=DEMO_CLIENT).first()
            if client is None:
                client, _ = app_clients.create_client(
                    pool=pool,
                    name=DEMO_CLIENT,
                    callback_urls=[callback],
                    logout_urls=[logout],
                    allowed_oauth_flows=["code"],
                    allowed_oauth_scopes=["openid", "email", "phone", "profile"],
                    explicit_auth_flows=[
                        "ALLOW_USER_SRP_AUTH",
                        "ALLOW_USER_PASSWORD_AUTH",
                        "ALLOW_REFRESH_TOKEN_AUTH",
                    ],
                )
                created["client"] = True
            elif callback not in client.callback_urls or logout not in client.logout_urls:
                # PUBLIC_URL changed since the last run: allow the new URLs too.
                app_clients.update_client(
                    client=client,
                    callback_urls=[*client.callback_urls, callback]
                    if callback not in client.callback_urls
                    else client.callback_urls,
                    logout_urls=[*client.logout_urls, logout]
                    if logout not in client.logout_urls
                    else client.logout_urls,
                )

            demo_password = None
            user = find_for_sign_in(pool, DEMO_USER)
            if user is None:
                demo_password = admin.generate_temporary_password(pool)
                user, _ = admin.admin_create_user(
                    pool=pool,
                    username=DEMO_USER,
                    attributes={"email": DEMO_EMAIL, "email_verified": "true", "name": "Demo"},
                    temporary_password=demo_password,
                    message_action="SUPPRESS",
                    context=CLI,
                )
                passwords.admin_set_password(user=user, password=demo_password, permanent=True)
                created["demo_user"] = True
            elif reset:
                demo_password = admin.generate_temporary_password(pool)
                passwords.admin_set_password(user=user, password=demo_password, permanent=True)

            operators = get_user_model().objects
            admin_password = None
            if not operators.filter(is_superuser=True).exists():
                admin_password = admin.generate_temporary_password(pool)
                operators.create_superuser(OPERATOR, "admin@example.com", admin_password)
                created["admin"] = True
            elif reset and (operator := operators.filter(username=OPERATOR).first()):
                admin_password = admin.generate_temporary_password(pool)
                operator.set_password(admin_password)
                operator.save(update_fields=["password"])

        issuer = f"{base}/{pool.id}"
        served_at = domain_selectors.preferred(pool)
        return {
            "pool_id": pool.id,
            "client_id": client.client_id,
            "created": created,
            "urls": {
                "demo": f"{base}/demo/",
                "console": f"{base}/console/",
                "discovery": f"{issuer}/.well-known/openid-configuration",
                "jwks": f"{issuer}/.well-known/jwks.json",
                # The pool's own host name, when it has a domain (hostedui.hosts).
                "domain": f"{domain_selectors.base_url(served_at)}/" if served_at else None,
            },
            "demo_user": {"username": DEMO_USER, "email": DEMO_EMAIL, "password": demo_password},
            "operator": {"username": OPERATOR, "password": admin_password},
        }

    def describe(self, result):
        unchanged = "(unchanged; --reset-passwords sets a new one)"
        urls = result["urls"]
        domain = [f"  Domain:     {urls['domain']} (hosted pages, OAuth)"] if urls["domain"] else []
        return [
            f"Pool {result['pool_id']} · app client {result['client_id']}",
            "",
            f"  Demo app:   {urls['demo']}",
            f"  Console:    {urls['console']}",
            f"  Discovery:  {urls['discovery']}",
            *domain,
            "",
            f"  Demo user:  {result['demo_user']['username']} / "
            f"{result['demo_user']['password'] or unchanged}",
            f"  Operator:   {result['operator']['username']} / "
            f"{result['operator']['password'] or unchanged}",
        ]
