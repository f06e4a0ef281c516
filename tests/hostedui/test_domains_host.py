"""A pool served on its own host name (hostedui.hosts): every hosted route at Cognito's paths
with no pool id, nothing else there, links and redirects that stay on the domain, a full sign-in
with CSRF-checked form posts, the discovery document naming the domain's endpoints, and the
domain refused (400) as soon as it is deleted, by any process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt as pyjwt
import pytest
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import Client
from django.urls import resolve

from config.front import ApiHandler, Front
from hostedui.hosts import DOMAIN_URLCONF
from hostedui.oauth import pkce
from hostedui.urls import hosted
from pool import jwt
from pool.selectors import domains as domain_selectors
from pool.services import domains
from tests import factories, parallel
from tests.perf import wsgi as perf_wsgi

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/abcdef-123"
CUSTOM = "auth.example.com"
CALLBACK = "http://localhost:3000/callback"
VERIFIER = "v" * 50


@pytest.fixture
def public(settings):
    settings.PUBLIC_URL = "http://localhost:8000"
    return "localhost:8000"


@pytest.fixture
def custom(public, pool):
    domains.create_domain(pool=pool, domain=CUSTOM, certificate_arn=ARN)
    return CUSTOM


def on(host: str, **kwargs) -> Client:
    return Client(HTTP_HOST=host, **kwargs)


def authorize_query(client) -> str:
    return urlencode(
        {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid email",
            "state": "s1",
            "code_challenge": pkce.s256(VERIFIER),
            "code_challenge_method": "S256",
        }
    )


def route_paths() -> list[str]:
    return [str(p.pattern) for p in hosted]


@pytest.mark.parametrize("path", route_paths())
def test_every_hosted_route_answers_on_the_domain_as_under_the_pool_id(path, pool, custom):
    """Each route resolves to the same view, and answers a bare GET with the same status, on
    the domain at `/{path}` and on the server at `/{pool_id}/{path}`."""
    assert resolve(f"/{path}", urlconf=DOMAIN_URLCONF).func is resolve(f"/{pool.id}/{path}").func
    on_domain = on(custom).get(f"/{path}")
    on_server = on("localhost:8000").get(f"/{pool.id}/{path}")
    assert on_domain.status_code == on_server.status_code
    if "<" not in path:  # a route with parameters is 404 for the pattern's own text as values
        assert on_domain.status_code != 404


def test_pages_render_on_the_domain_with_links_that_stay_there(pool, custom, app_client):
    page = on(custom).get(f"/login?{authorize_query(app_client)}")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="signInFormUsername"' in html
    links = re.findall(r'(?:href|action)="([^"]+)"', html)
    hosted_links = [link for link in links if not link.startswith("/static/")]
    assert any(link.startswith("/forgotPassword?") for link in hosted_links)
    assert all(pool.id not in link for link in hosted_links), hosted_links


def test_a_prefix_domain_is_served_under_the_suffix(pool, public, app_client):
    domains.create_domain(pool=pool, domain="shop")
    host = f"shop.{domain_selectors.prefix_suffix()}"
    assert host == "shop.auth.localhost"
    response = on(f"{host}:8000").get(f"/oauth2/authorize?{authorize_query(app_client)}")
    assert response.status_code == 302
    assert response["Location"].startswith("/login?")


def test_sign_in_on_the_domain_end_to_end_with_csrf_checked_posts(pool, custom, app_client, user):
    browser = on(custom, enforce_csrf_checks=True)
    to_login = browser.get(f"/oauth2/authorize?{authorize_query(app_client)}")
    assert to_login.status_code == 302
    login = to_login["Location"]
    assert login.startswith("/login?") and pool.id not in login
    page = browser.get(login)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    form = {"csrfmiddlewaretoken": csrf, "username": "alice", "password": factories.PASSWORD}
    back = browser.post(login, form, headers={"origin": f"http://{custom}"})
    assert back.status_code == 302, back.content[:300]
    returned = {k: v[0] for k, v in parse_qs(urlsplit(back["Location"]).query).items()}
    assert back["Location"].startswith(CALLBACK)
    assert returned["iss"] == jwt.issuer(pool)

    tokens = on(custom).post(
        "/oauth2/token",
        {
            "grant_type": "authorization_code",
            "code": returned["code"],
            "redirect_uri": CALLBACK,
            "client_id": app_client.client_id,
            "code_verifier": VERIFIER,
        },
    )
    assert tokens.status_code == 200, tokens.content
    claims = pyjwt.decode(tokens.json()["id_token"], options={"verify_signature": False})
    assert claims["iss"] == f"http://localhost:8000/{pool.id}"
    assert claims["sub"] == str(user.sub)

    info = on(custom).get(
        "/oauth2/userInfo", headers={"authorization": f"Bearer {tokens.json()['access_token']}"}
    )
    assert info.status_code == 200 and info.json()["sub"] == str(user.sub)

    # The hosted session lives on the domain: authorize there goes straight back to the app.
    again = browser.get(f"/oauth2/authorize?{authorize_query(app_client)}")
    assert again.status_code == 302 and again["Location"].startswith(CALLBACK)


def test_a_form_post_from_another_origin_is_refused_on_the_domain(pool, custom, app_client, user):
    browser = on(custom, enforce_csrf_checks=True)
    login = f"/login?{authorize_query(app_client)}"
    page = browser.get(login)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    form = {"csrfmiddlewaretoken": csrf, "username": "alice", "password": factories.PASSWORD}
    refused = browser.post(login, form, headers={"origin": "http://evil.example"})
    assert refused.status_code == 403


def test_session_cookie_is_host_only(pool, custom, app_client, user):
    browser = on(custom)
    response = browser.post(
        f"/login?{authorize_query(app_client)}",
        {"username": "alice", "password": factories.PASSWORD},
    )
    assert response.status_code == 302
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["domain"] == ""


@pytest.mark.parametrize(
    "host",
    [
        "unknown.example.com",
        f"evil.{CUSTOM}",  # a subdomain of a pool's domain is not that domain
        "nope.auth.localhost",  # the prefix suffix, with a prefix no pool has
        "auth.localhost",
    ],
)
def test_unknown_hosts_are_refused(host, pool, custom, app_client):
    response = on(host).get(f"/login?{authorize_query(app_client)}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("get", "/console/", {}),
        ("get", "/console/login", {}),
        ("post", "/", {"headers": {"x-amz-target": "AWSCognitoIdentityProviderService.GetUser"}}),
        ("get", "/demo/", {}),
        ("get", "/healthz", {}),
        ("get", "/", {}),
        ("get", "/{pool}/login", {}),
        ("get", "/{pool}/.well-known/openid-configuration", {}),
    ],
)
def test_nothing_but_the_hosted_routes_is_served_on_the_domain(
    method, path, extra, pool, custom, django_assert_max_num_queries
):
    """Refused as on an unknown host, without looking the host up."""
    with django_assert_max_num_queries(0):
        response = getattr(on(custom), method)(path.format(pool=pool.id), **extra)
    assert response.status_code == 400


def test_another_pools_routes_are_not_served_on_a_domain(pool, custom):
    other = factories.make_pool()
    assert on(custom).get(f"/{other.id}/oauth2/authorize").status_code == 400


def test_discovery_names_the_domains_endpoints_and_keeps_the_issuer(pool, custom):
    issuer = f"http://localhost:8000/{pool.id}"
    document = on("localhost:8000").get(f"/{pool.id}/.well-known/openid-configuration").json()
    assert document["issuer"] == issuer
    assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    base = f"http://{CUSTOM}:8000"
    assert document["authorization_endpoint"] == f"{base}/oauth2/authorize"
    assert document["token_endpoint"] == f"{base}/oauth2/token"
    assert document["userinfo_endpoint"] == f"{base}/oauth2/userInfo"
    assert document["revocation_endpoint"] == f"{base}/oauth2/revoke"
    assert document["end_session_endpoint"] == f"{base}/logout"
    on_domain = on(custom).get("/.well-known/openid-configuration").json()
    assert on_domain == document
    jwks = on(custom).get("/.well-known/jwks.json").json()
    assert jwks == on("localhost:8000").get(f"/{pool.id}/.well-known/jwks.json").json()


def test_discovery_prefers_the_custom_domain_then_the_prefix(pool, public, settings):
    def endpoint():
        return (
            on(public).get(f"/{pool.id}/.well-known/openid-configuration").json()["token_endpoint"]
        )

    assert endpoint() == f"http://localhost:8000/{pool.id}/oauth2/token"
    domains.create_domain(pool=pool, domain="shop")
    assert endpoint() == "http://shop.auth.localhost:8000/oauth2/token"
    domains.create_domain(pool=pool, domain=CUSTOM, certificate_arn=ARN)
    assert endpoint() == f"http://{CUSTOM}:8000/oauth2/token"


def test_domain_urls_follow_public_url_or_the_settings(pool, settings):
    row = domains.create_domain(pool=pool, domain=CUSTOM, certificate_arn=ARN)
    settings.PUBLIC_URL = "https://cognate.example.net"
    assert domain_selectors.base_url(row) == f"https://{CUSTOM}"
    settings.PUBLIC_URL = "http://localhost:8000"
    assert domain_selectors.base_url(row) == f"http://{CUSTOM}:8000"
    settings.DOMAIN_URL_SCHEME, settings.DOMAIN_URL_PORT = "https", "8443"
    assert domain_selectors.base_url(row) == f"https://{CUSTOM}:8443"
    settings.PREFIX_DOMAIN_SUFFIX = "auth.eu.example.net"
    prefix = domains.create_domain(pool=pool, domain="shop")
    assert domain_selectors.base_url(prefix) == "https://shop.auth.eu.example.net:8443"


def test_a_deleted_domain_is_refused_at_once(pool, custom, app_client):
    browser = on(custom)
    assert browser.get(f"/login?{authorize_query(app_client)}").status_code == 200
    domains.delete_domain(pool_id=pool.id, domain=custom)
    assert browser.get(f"/login?{authorize_query(app_client)}").status_code == 400


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_a_domain_deleted_by_another_process_is_refused_at_once(pool, custom, app_client):
    """No process keeps a copy: after another process (its own Django, same database and
    cache) deletes the domain, this one refuses the host on the next request."""
    browser = on(custom)
    assert browser.get(f"/login?{authorize_query(app_client)}").status_code == 200
    root = Path(__file__).resolve().parents[2]
    script = (
        "from pool.services.domains import delete_domain; "
        f"delete_domain(pool_id={pool.id!r}, domain={custom!r})"
    )
    env = {**os.environ, "DATABASE_URL": _database_url(), "PUBLIC_URL": "http://localhost:8000"}
    subprocess.run(
        [sys.executable, str(root / "manage.py"), "shell", "-c", script],
        env=env,
        cwd=root,
        check=True,
        timeout=120,
    )
    assert browser.get(f"/login?{authorize_query(app_client)}").status_code == 400


def test_a_domain_created_later_is_served_without_an_allowed_hosts_entry(pool, public, settings):
    assert "login.example.org" not in settings.ALLOWED_HOSTS
    assert on("login.example.org").get("/.well-known/jwks.json").status_code == 400
    domains.create_domain(pool=pool, domain="login.example.org", certificate_arn=ARN)
    assert on("login.example.org").get("/.well-known/jwks.json").status_code == 200


def test_discovery_sees_a_domain_change_at_once_after_caching(pool, public):
    def endpoint():
        return (
            on(public)
            .get(f"/{pool.id}/.well-known/openid-configuration")
            .json()["authorization_endpoint"]
        )

    assert endpoint().startswith(f"http://localhost:8000/{pool.id}/")
    row = domains.create_domain(pool=pool, domain=CUSTOM, certificate_arn=ARN)
    assert endpoint() == f"http://{CUSTOM}:8000/oauth2/authorize"
    domains.delete_domain(pool_id=pool.id, domain=row.domain)
    assert endpoint().startswith(f"http://localhost:8000/{pool.id}/")


def test_a_host_listed_in_allowed_hosts_is_the_servers_own(pool, public, settings):
    domains.create_domain(pool=pool, domain=CUSTOM, certificate_arn=ARN)
    # Listed after the domain was made (the service refuses a listed name as a domain).
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, CUSTOM]
    assert on(CUSTOM).get("/.well-known/jwks.json").status_code == 404
    assert on(CUSTOM).get(f"/{pool.id}/.well-known/jwks.json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_on_the_domain_and_the_server_keep_their_own_links(
    pool, custom, app_client
):
    """Which host a request is on is its own (a context variable and Django's per-thread
    urlconf), never a neighbour's: redirects in flight at once each stay on their host."""
    query = authorize_query(app_client)

    def via_domain():
        return on(custom).get(f"/oauth2/authorize?{query}")["Location"]

    def via_server():
        return on("localhost:8000").get(f"/{pool.id}/oauth2/authorize?{query}")["Location"]

    outcomes = parallel.run_together([via_domain, via_server] * 4)
    assert sorted(outcome.split("?")[0] for outcome in outcomes) == sorted(
        ["/login"] * 4 + [f"/{pool.id}/login"] * 4
    )


def test_the_kept_discovery_document_follows_domain_changes(pool, public):
    """config.front keeps the issuer's discovery answer per pool version: creating or deleting
    a domain replaces the version, so the next answer names (or stops naming) the domain."""
    front = Front(WSGIHandler(), ApiHandler())
    path = f"/{pool.id}/.well-known/openid-configuration"

    def token_endpoint():
        answer = perf_wsgi.call(front, path, HTTP_HOST=public)
        assert answer.status == 200
        return json.loads(answer.body)["token_endpoint"]

    assert token_endpoint() == token_endpoint() == f"http://{public}/{pool.id}/oauth2/token"
    domains.create_domain(pool=pool, domain=CUSTOM, certificate_arn=ARN)
    assert token_endpoint() == f"http://{CUSTOM}:8000/oauth2/token"
    domains.delete_domain(pool_id=pool.id, domain=CUSTOM)
    assert token_endpoint() == f"http://{public}/{pool.id}/oauth2/token"


def test_the_api_chain_serves_the_token_endpoint_on_the_domain(pool, custom):
    """config.front sends `/oauth2/token` through the API middleware chain: the domain's
    routing is in that chain too."""
    front = Front(WSGIHandler(), ApiHandler())
    answer = perf_wsgi.call(front, "/oauth2/token", method="POST", HTTP_HOST=custom)
    assert answer.status == 400
    assert json.loads(answer.body)["error"] == "invalid_request"
