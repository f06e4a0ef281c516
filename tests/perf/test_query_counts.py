"""How many SQL statements each hot path costs, exactly, once a process is warm (the pool row,
its signing keys and its trigger kinds kept in memory for the pool's config_version).

Each count is what the design promises (pool.selectors.compiled, pool.selectors.tokens,
config.front): a change that adds a query to a hot path fails here. No timings: the load figures
come from wrk (README, "Performance")."""

from __future__ import annotations

import base64
import json
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection

from config.front import ApiHandler, Front
from pool import jwt
from pool.models import Group
from pool.services import keys
from pool.services import triggers as trigger_config
from tests import factories
from tests import triggers_support as hooks
from tests.api.conftest import (
    Api,
    access_key,  # noqa: F401 (the signed calls' fixture)
)
from tests.hostedui.conftest import authorize_url, code_for, exchange_code, token_request
from tests.perf.wsgi import call

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _pool_with_keys(pool):
    """The pool's signing key exists, as it does after the pool's first token (making it
    replaces the pool's config_version, which makes every process reload the pool once)."""
    keys.active_key(pool)


def _basic(app) -> str:
    return "Basic " + base64.b64encode(f"{app.client_id}:{app.plain_secret}".encode()).decode()


def _refresh(client, pool, app, token, **headers):
    return token_request(
        client,
        pool,
        {"grant_type": "refresh_token", "client_id": app.client_id, "refresh_token": token},
        **headers,
    )


@pytest.fixture
def grouped_user(user, pool):
    """alice in two groups: the refresh's one read brings them along."""
    for name, precedence in (("admins", 1), ("staff", 2)):
        user.groups.add(Group.objects.create(pool=pool, name=name, precedence=precedence))
    return user


# A refresh with rotation: its one read, then the token marked and its successor in one statement.
_REFRESH_WITH_ROTATION = 2


@pytest.fixture
def rotating_client(pool):
    return factories.make_client(pool, refresh_token_rotation=True)


def test_refresh_with_rotation_is_one_read_and_one_write_transaction(
    client, pool, rotating_client, grouped_user, django_assert_num_queries
):
    tokens = exchange_code(client, pool, rotating_client, code_for(client, pool, rotating_client))
    first = _refresh(client, pool, rotating_client, tokens.json()["refresh_token"]).json()
    # token + family + user + client + groups + pool version; then the token marked rotated
    # and its successor in one statement (PostgreSQL: a data-modifying CTE; SQLite: an UPSERT)
    with django_assert_num_queries(_REFRESH_WITH_ROTATION) as captured:
        response = _refresh(client, pool, rotating_client, first["refresh_token"])
    assert response.status_code == 200, response.content
    assert captured.captured_queries[0]["sql"].startswith("SELECT")
    assert "pool_user_groups" in captured.captured_queries[0]["sql"]
    claims = _claims(response.json()["access_token"])
    assert claims["cognito:groups"] == ["admins", "staff"]


def test_refresh_through_a_pre_token_trigger_reads_nothing_more(
    client, pool, rotating_client, grouped_user, django_assert_num_queries
):
    """The refresh's one read loads only some columns (pool.selectors.tokens): what the
    ID token and a pre-token trigger's event use of the user is among them (a deferred column
    would be one more statement here)."""
    found, server = hooks.serve()
    try:
        trigger_config.set_trigger(
            pool=pool, kind="PreTokenGeneration", webhook=found.url, secret=hooks.SECRET
        )
        tokens = exchange_code(
            client,
            pool,
            rotating_client,
            code_for(client, pool, rotating_client, scope="openid email"),
        )
        first = _refresh(client, pool, rotating_client, tokens.json()["refresh_token"]).json()
        # The refresh's statements, then the trigger's row and its invocation record.
        statements = _REFRESH_WITH_ROTATION + 2
        with django_assert_num_queries(statements) as captured:
            response = _refresh(client, pool, rotating_client, first["refresh_token"])
    finally:
        server.shutdown()
        server.server_close()
    assert response.status_code == 200, response.content
    later = " ".join(query["sql"] for query in captured.captured_queries[1:])
    assert '"pool_user"' not in later and '"pool_appclient"' not in later
    event = found.last("TokenGeneration_")
    assert event["triggerSource"] == "TokenGeneration_RefreshTokens"
    attributes = event["request"]["userAttributes"]
    assert attributes["email"] == grouped_user.email
    assert attributes["cognito:user_status"] == "CONFIRMED"
    assert _claims(response.json()["id_token"])["email"] == grouped_user.email


def test_refresh_without_rotation_is_one_read(
    client, pool, grouped_user, django_assert_num_queries
):
    app_client = factories.make_client(pool, refresh_token_rotation=False)
    tokens = exchange_code(client, pool, app_client, code_for(client, pool, app_client)).json()
    _refresh(client, pool, app_client, tokens["refresh_token"])
    with django_assert_num_queries(1):
        response = _refresh(client, pool, app_client, tokens["refresh_token"])
    assert response.status_code == 200, response.content
    assert "refresh_token" not in response.json()


def test_refresh_of_a_confidential_client_authenticates_from_the_same_read(
    client, pool, grouped_user, django_assert_num_queries
):
    app = factories.make_client(pool, secret="", refresh_token_rotation=True)
    code = code_for(client, pool, app)
    exchanged = token_request(
        client,
        pool,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": _CALLBACK},
        HTTP_AUTHORIZATION=_basic(app),
    ).json()
    first = _refresh_basic(client, pool, app, exchanged["refresh_token"]).json()
    with django_assert_num_queries(_REFRESH_WITH_ROTATION):
        response = _refresh_basic(client, pool, app, first["refresh_token"])
    assert response.status_code == 200, response.content
    # A wrong secret is refused as before, whatever the token.
    wrong = "Basic " + base64.b64encode(f"{app.client_id}:nope".encode()).decode()
    refused = token_request(
        client,
        pool,
        {"grant_type": "refresh_token", "refresh_token": response.json()["refresh_token"]},
        HTTP_AUTHORIZATION=wrong,
    )
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_client_credentials_is_one_read_of_the_client_and_the_pool_version(
    client, pool, django_assert_num_queries
):
    app = factories.make_service_client(pool, identifier="api")
    data = {"grant_type": "client_credentials"}
    assert token_request(client, pool, data, HTTP_AUTHORIZATION=_basic(app)).status_code == 200
    with django_assert_num_queries(1) as captured:
        response = token_request(client, pool, data, HTTP_AUTHORIZATION=_basic(app))
    assert "config_version" in captured.captured_queries[0]["sql"]
    assert response.status_code == 200, response.content
    assert _claims(response.json()["access_token"])["scope"] == "api/read"


def test_code_exchange(client, pool, app_client, grouped_user, django_assert_num_queries):
    exchange_code(client, pool, app_client, code_for(client, pool, app_client))
    code = code_for(client, pool, app_client)
    # code + user + client + groups + pool version; then, on SQLite, BEGIN, family, refresh
    # token, code used (if still unused), COMMIT; on PostgreSQL all three in one statement (a
    # data-modifying CTE whose inserts run only if the conditional UPDATE marked the code)
    postgresql = connection.vendor == "postgresql"
    with django_assert_num_queries(2 if postgresql else 6) as captured:
        response = exchange_code(client, pool, app_client, code)
    assert response.status_code == 200, response.content
    statements = [query["sql"] for query in captured.captured_queries]
    assert "pool_user_groups" in statements[0]
    # The single use is the conditional UPDATE, written with the family or not at all.
    if postgresql:
        assert statements[1].startswith("WITH used AS (UPDATE")
        assert statements[1].count("INSERT") == 2
        assert '"used_at" IS NULL' in statements[1]
    else:
        assert [sql.split()[0] for sql in statements[2:5]] == ["INSERT", "INSERT", "UPDATE"]
        assert '"used_at" IS NULL' in statements[4]
    assert _claims(response.json()["access_token"])["cognito:groups"] == ["admins", "staff"]


def test_authorize_with_a_hosted_session(client, pool, app_client, user, django_assert_num_queries):
    code_for(client, pool, app_client)  # signs in: the browser now holds a hosted session
    client.get(authorize_url(pool, app_client))
    # client + pool version + session row, session user; the new code
    with django_assert_num_queries(3) as captured:
        response = client.get(authorize_url(pool, app_client))
    assert response.status_code == 302 and "code=" in response["Location"]
    assert "config_version" in captured.captured_queries[0]["sql"]
    assert "django_session" in captured.captured_queries[0]["sql"]
    assert captured.captured_queries[2]["sql"].startswith("INSERT")


@pytest.mark.django_db(transaction=True)  # no test transaction: a session INSERT as served
def test_hosted_sign_in_of_a_new_visitor(client, pool, app_client, user, django_assert_num_queries):
    login = client.get(authorize_url(pool, app_client))["Location"]
    client.get(login)  # the form, and the process's copy of the pool
    form = {"username": "alice", "password": factories.PASSWORD}
    client.post(login, form)
    client.cookies.pop(settings.SESSION_COOKIE_NAME)  # a new visitor, as the bench's
    # client + pool version, the user with their groups, the sign-in's stamp and event
    # together (one statement on PostgreSQL; on SQLite one write transaction, BEGIN IMMEDIATE
    # ... COMMIT, where they were two autocommitted ones), the code, the new session (one
    # INSERT). The code and the session are the door's own writes.
    postgresql = connection.vendor == "postgresql"
    with django_assert_num_queries(5 if postgresql else 8) as captured:
        response = client.post(login, form)
    assert response.status_code == 302 and "code=" in response["Location"]
    statements = [q["sql"] for q in captured.captured_queries]
    assert "config_version" in statements[0]
    if postgresql:
        assert statements[2].startswith('WITH w0 AS (UPDATE "pool_user"')
        assert ') INSERT INTO "pool_authevent"' in statements[2]
    else:
        assert [sql.split()[0] for sql in statements[2:6]] == [
            "BEGIN",
            "UPDATE",
            "INSERT",
            "COMMIT",
        ]
    assert statements[-1].startswith('INSERT INTO "django_session"')
    assert not any(sql.startswith('SELECT "pool_userpool"') for sql in statements)


def test_user_info_is_the_family_with_the_pool_version(
    client, pool, app_client, user, django_assert_num_queries
):
    """The process's copy of the pool is checked by the version the family's read brings."""
    tokens = exchange_code(client, pool, app_client, code_for(client, pool, app_client)).json()
    bearer = f"Bearer {tokens['access_token']}"
    client.get(f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=bearer)
    with django_assert_num_queries(1) as captured:
        response = client.get(f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=bearer)
    assert "config_version" in captured.captured_queries[0]["sql"]
    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_user_info_and_get_user_through_the_api_door_are_the_same_one(
    pool, app_client, user, django_assert_num_queries
):
    """config.front's ApiDoor calls the same views, or (the second userInfo and the second
    GetUser, written by the door itself) the same services: the same statements, no more. The
    one statement is the token's family with its user, client and the pool's version: the
    access token's revocation (and its user's sign-out, deletion, disabling) is read on every
    call."""
    from tests.perf.wsgi import front_client

    client = front_client()
    tokens = exchange_code(client, pool, app_client, code_for(client, pool, app_client)).json()
    bearer = f"Bearer {tokens['access_token']}"
    client.get(f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=bearer)
    with django_assert_num_queries(1):
        response = client.get(f"/{pool.id}/oauth2/userInfo", HTTP_AUTHORIZATION=bearer)
    assert response.status_code == 200 and response.json()["username"] == "alice"
    access = _api_access_token(user, app_client)
    api = Api(client)
    assert api.post("GetUser", {"AccessToken": access}, sign=False).status_code == 200
    with django_assert_num_queries(EXPECTED["GetUser"]) as captured:
        response = api.post("GetUser", {"AccessToken": access}, sign=False)
    assert json.loads(response.content)["Username"] == "alice"
    assert "config_version" in captured.captured_queries[0]["sql"]
    assert "pool_refreshfamily" in captured.captured_queries[0]["sql"]


def _api_access_token(user, app_client) -> str:
    from pool import clock
    from pool.services import tokens

    scopes = [tokens.ADMIN_SCOPE]
    return tokens.issue(
        user=user, client=app_client, scopes=scopes, auth_time=clock.now()
    ).access_token


@pytest.mark.parametrize("document", ["jwks.json", "openid-configuration"])
def test_jwks_and_discovery_are_one_version_read(pool, document, django_assert_num_queries):
    front = Front(ApiHandler(), ApiHandler())
    path = f"/{pool.id}/.well-known/{document}"
    first = call(front, path)
    assert first.status == 200
    with django_assert_num_queries(1):
        again = call(front, path)
    assert again.status == 200 and again.body == first.body
    with django_assert_num_queries(1):
        not_modified = call(front, path, HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert not_modified.status == 304


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("document", ["jwks.json", "openid-configuration"])
def test_jwks_and_discovery_read_nothing_outside_a_transaction(
    pool, document, django_assert_num_queries
):
    """Outside a test's transaction (as in a server): the kept answer costs no statement while
    pool.config_generation's count holds (a SQLite file's shared counter; on PostgreSQL the
    notifications drained from this process's listening connection, no round trip). Only an
    in-memory SQLite database, which keeps no count, reads the version each time."""
    front = Front(ApiHandler(), ApiHandler())
    path = f"/{pool.id}/.well-known/{document}"
    first = call(front, path)
    assert first.status == 200
    reads = 1 if connection.vendor == "sqlite" and connection.is_in_memory_db() else 0
    with django_assert_num_queries(reads):
        again = call(front, path)
    assert again.status == 200 and again.body == first.body
    with django_assert_num_queries(reads):
        not_modified = call(front, path, HTTP_IF_NONE_MATCH=first.headers["ETag"])
    assert not_modified.status == 304


# --------------------------------------------------------------------------- the JSON API


@pytest.fixture
def api_client(pool):
    return factories.make_client(
        pool,
        explicit_auth_flows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        refresh_token_rotation=False,  # InitiateAuth's refresh flows never rotate
    )


def _initiate(api, app, flow, parameters):
    return api.post(
        "InitiateAuth",
        {"AuthFlow": flow, "ClientId": app.client_id, "AuthParameters": parameters},
        sign=False,
    )


def test_initiate_auth_user_password(
    client, pool, api_client, grouped_user, django_assert_num_queries
):
    api = Api(client)
    parameters = {"USERNAME": "alice", "PASSWORD": factories.PASSWORD}
    assert _initiate(api, api_client, "USER_PASSWORD_AUTH", parameters).status_code == 200
    # client + pool, the user with their groups, then the sign-in's writes, together
    # (pool.selectors.compiled.write): its stamp on the user, its event, the refresh family
    # and its token
    postgresql = connection.vendor == "postgresql"
    with django_assert_num_queries(EXPECTED["USER_PASSWORD_AUTH"]) as captured:
        response = _initiate(api, api_client, "USER_PASSWORD_AUTH", parameters)
    assert response.status_code == 200, response.content
    statements = [q["sql"] for q in captured.captured_queries]
    user_read = next(sql for sql in statements if "pool_user_groups" in sql)
    assert user_read.startswith("SELECT") and "pool_signinname" in user_read
    writes = statements[2:]
    if postgresql:
        [write] = writes
        assert write.startswith('WITH w0 AS (UPDATE "pool_user" SET "last_sign_in_at"')
        for table in ("pool_authevent", "pool_refreshfamily"):
            assert f'AS (INSERT INTO "{table}"' in write
        assert ') INSERT INTO "pool_refreshtoken"' in write
    else:
        assert [sql.split('"')[1] for sql in writes] == [
            "pool_user",
            "pool_authevent",
            "pool_refreshfamily",
            "pool_refreshtoken",
        ]
    result = json.loads(response.content)["AuthenticationResult"]
    assert _claims(result["AccessToken"])["cognito:groups"] == ["admins", "staff"]


@pytest.mark.django_db(transaction=True)  # no test transaction: the sign-in's own, as served
def test_initiate_auth_writes_in_one_transaction(client, pool, api_client, user):
    """Served, the sign-in's four writes are one write transaction on SQLite (one write lock,
    one commit: BEGIN IMMEDIATE ... COMMIT, as the three it took before were three) and one
    statement on PostgreSQL (autocommit: no BEGIN or COMMIT round trips)."""
    from django.test.utils import CaptureQueriesContext

    api = Api(client)
    parameters = {"USERNAME": "alice", "PASSWORD": factories.PASSWORD}
    assert _initiate(api, api_client, "USER_PASSWORD_AUTH", parameters).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = _initiate(api, api_client, "USER_PASSWORD_AUTH", parameters)
    assert response.status_code == 200, response.content
    statements = [q["sql"].split()[0] for q in captured.captured_queries]
    if connection.vendor == "postgresql":
        assert statements == ["SELECT", "SELECT", "WITH"]
    else:
        assert statements == [
            "SELECT",
            "SELECT",
            "BEGIN",
            "UPDATE",
            "INSERT",
            "INSERT",
            "INSERT",
            "COMMIT",
        ]


def test_initiate_auth_refresh_token(client, pool, api_client, user, django_assert_num_queries):
    api = Api(client)
    signed_in = _initiate(
        api, api_client, "USER_PASSWORD_AUTH", {"USERNAME": "alice", "PASSWORD": factories.PASSWORD}
    )
    signed_in = json.loads(signed_in.content)["AuthenticationResult"]
    parameters = {"REFRESH_TOKEN": signed_in["RefreshToken"]}
    assert _initiate(api, api_client, "REFRESH_TOKEN_AUTH", parameters).status_code == 200
    with django_assert_num_queries(EXPECTED["REFRESH_TOKEN_AUTH"]):
        response = _initiate(api, api_client, "REFRESH_TOKEN_AUTH", parameters)
    assert response.status_code == 200, response.content


def test_get_user(client, pool, api_client, user, django_assert_num_queries):
    api = Api(client)
    signed_in = _initiate(
        api, api_client, "USER_PASSWORD_AUTH", {"USERNAME": "alice", "PASSWORD": factories.PASSWORD}
    )
    access = json.loads(signed_in.content)["AuthenticationResult"]["AccessToken"]
    assert api.post("GetUser", {"AccessToken": access}, sign=False).status_code == 200
    with django_assert_num_queries(EXPECTED["GetUser"]):
        response = api.post("GetUser", {"AccessToken": access}, sign=False)
    assert response.status_code == 200, response.content
    assert json.loads(response.content)["Username"] == "alice"


def test_get_user_parses_its_access_token_once(client, pool, api_client, user):
    """The door parses the token to find its pool; the check verifies that same parse."""
    api = Api(client)
    signed_in = _initiate(
        api, api_client, "USER_PASSWORD_AUTH", {"USERNAME": "alice", "PASSWORD": factories.PASSWORD}
    )
    access = json.loads(signed_in.content)["AuthenticationResult"]["AccessToken"]
    with mock.patch("pool.jwt.parse", wraps=jwt.parse) as parse:
        response = api.post("GetUser", {"AccessToken": access}, sign=False)
    assert response.status_code == 200, response.content
    assert parse.call_count == 1


@pytest.mark.usefixtures("access_key")
def test_list_users(client, pool, django_assert_num_queries):
    """The signed admin call: its access key and the pool, then one read for the page, whose
    SQL is compiled once per thread and filter shape (pool.selectors.users.search)."""
    for name in ("alice", "albert", "bob"):
        factories.make_user(pool, name, password=None)
    api = Api(client)
    body = {"UserPoolId": pool.id, "Filter": 'email ^= "al"', "Limit": 1}
    assert api.post("ListUsers", body).status_code == 200
    with django_assert_num_queries(EXPECTED["ListUsers"]) as captured:
        response = api.post("ListUsers", body)
    assert response.status_code == 200, response.content
    page = json.loads(response.content)
    assert [user["Username"] for user in page["Users"]] == ["albert"]
    assert "pool_user" in captured.captured_queries[-1]["sql"]
    with django_assert_num_queries(EXPECTED["ListUsers"]):
        response = api.post("ListUsers", {**body, "PaginationToken": page["PaginationToken"]})
    assert [user["Username"] for user in json.loads(response.content)["Users"]] == ["alice"]


_POSTGRESQL = connection.vendor == "postgresql"
EXPECTED = {
    # the client with the pool, the user with their groups, the sign-in's writes: its stamp
    # and event with the refresh family and its token (one statement on PostgreSQL; four in
    # one transaction on SQLite, whose BEGIN and COMMIT a test's transaction leaves out)
    "USER_PASSWORD_AUTH": 3 if _POSTGRESQL else 6,
    "REFRESH_TOKEN_AUTH": 2,
    # the token's family with its user, client and the pool's version (the API's rate limit
    # counts in the cache: process memory in tests without REDIS_URL, Redis with it)
    "GetUser": 1,
    "ListUsers": 3,
    # the POST of the sign-in form, out of the cache: client and pool version, user, the
    # sign-in's stamp and event (one statement on PostgreSQL), the code and the new session
    # (in a test's transaction: its savepoints too)
    "hosted sign-in": 7 if _POSTGRESQL else 8,
}
_CALLBACK = "http://localhost:3000/callback"


def _refresh_basic(client, pool, app, token):
    return token_request(
        client,
        pool,
        {"grant_type": "refresh_token", "refresh_token": token},
        HTTP_AUTHORIZATION=_basic(app),
    )


def _claims(token: str) -> dict:
    import jwt as pyjwt

    return pyjwt.decode(token, options={"verify_signature": False})


def test_compiled_inserts_prepare_values_as_the_orm_does(pool, app_client, user):
    """pool.selectors.compiled: an authorization code's, a refresh family's and a refresh
    token's INSERT parameters are what the ORM's save would send (text passed through as is,
    the rest through each field)."""
    import datetime as dt

    from django.db import connection

    from pool.models import AuthorizationCode, RefreshFamily, RefreshToken
    from pool.selectors import compiled

    now = dt.datetime.now(dt.UTC)
    family = RefreshFamily(
        pool_id=pool.pk,
        user=user,
        client=app_client,
        scopes=["openid"],
        auth_time=now,
        expires_at=now,
        device_key="",
    )
    rows = [
        AuthorizationCode(
            digest="d" * 64,
            pool=pool,
            client=app_client,
            user=user,
            redirect_uri="https://a/b",
            scopes=["openid", "email"],
            nonce="",
            code_challenge="c" * 43,
            code_challenge_method="S256",
            auth_time=now,
            expires_at=now,
        ),
        family,
        RefreshToken(digest="e" * 64, family=family),
    ]
    for row in rows:
        statement = compiled.insert_statement(type(row))
        expected = [
            field.get_db_prep_save(field.pre_save(row, True), connection)
            for field in statement.fields
        ]
        got = statement.params(row, connection)
        # created_at (auto_now_add) is "now" at each call: compare everything else exactly.
        for field, a, b in zip(statement.fields, got, expected, strict=True):
            if field.name != "created_at":
                assert type(a) is type(b), field.name
                assert getattr(a, "obj", a) == getattr(b, "obj", b), field.name  # psycopg Jsonb


# ------------------------------------------------------- sign-in on the default database cache


@pytest.fixture(params=["counters' table", "slot file"])
def database_cache(request, settings, monkeypatch) -> bool:
    """The production default without Redis (config.cache.SharedDatabaseCache): the tests
    otherwise keep the cache in process memory (tests/conftest.py). Its once-a-minute cull of
    expired rows is kept out of the counted request. Its counters live in their table
    (PostgreSQL, an in-memory SQLite database: OPTIONS COUNTER_SLOTS 0 here) or, on a SQLite
    file, in the slot file next to it (config/counter_slots.py). True in the second case."""
    import config.cache

    in_slots = request.param == "slot file" and connection.vendor == "sqlite"
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedDatabaseCache",
            "LOCATION": "cognate_cache",
            "OPTIONS": {} if in_slots else {"COUNTER_SLOTS": 0},
        }
    }
    monkeypatch.setattr(config.cache, "_next_cull", float("inf"))
    return in_slots


def _cache_statements(captured) -> list[str]:
    return [
        query["sql"].split()[0]
        for query in captured.captured_queries
        if "cognate_cache" in query["sql"] or "cognate_counter" in query["sql"]
    ]


def _sign_in_cache_statements(in_slots: bool) -> list[str]:
    """Two per-IP rate-limit counts (the door's and sign-in's), the lockout's read of the series
    and its count (sliding its expiry); the success deletes the count, from the counters' table
    alone. A right first guess writes no time of the attempt (only a failure does). In the
    slot file the counts and the deletion take no statement: the read of the series is left."""
    if in_slots:
        return ["SELECT"]
    return ["INSERT", "INSERT", "SELECT", "INSERT", "DELETE"]


def test_initiate_auth_user_password_on_the_database_cache(
    database_cache, client, pool, api_client, user, django_assert_num_queries
):
    api = Api(client)
    parameters = {"USERNAME": "alice", "PASSWORD": factories.PASSWORD}
    assert _initiate(api, api_client, "USER_PASSWORD_AUTH", parameters).status_code == 200
    expected = _sign_in_cache_statements(database_cache)
    with django_assert_num_queries(EXPECTED["USER_PASSWORD_AUTH"] + len(expected)) as captured:
        response = _initiate(api, api_client, "USER_PASSWORD_AUTH", parameters)
    assert response.status_code == 200, response.content
    assert _cache_statements(captured) == expected


def test_hosted_sign_in_on_the_database_cache(database_cache, client, pool, app_client, user):
    from django.test.utils import CaptureQueriesContext

    code_for(client, pool, app_client)
    client.cookies.clear()
    response = client.get(authorize_url(pool, app_client))
    login = response["Location"]
    client.get(login)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(login, {"username": "alice", "password": factories.PASSWORD})
    assert response.status_code == 302 and "code=" in response["Location"], response.content[:300]
    # the form has one rate limit (sign-in's), the JSON API's door has its own
    expected = _sign_in_cache_statements(database_cache)
    expected = expected if database_cache else expected[1:]
    assert _cache_statements(captured) == expected
    assert len(captured) == EXPECTED["hosted sign-in"] + len(expected)


def test_client_credentials_on_the_database_cache(client, pool, database_cache):
    """The token endpoint's rate-limit count: one statement on the counters' table, none on a
    SQLite file (the slot file). The grant itself reads the client and the pool version."""
    from django.test.utils import CaptureQueriesContext

    app = factories.make_service_client(pool, identifier="api")
    data = {"grant_type": "client_credentials"}
    assert token_request(client, pool, data, HTTP_AUTHORIZATION=_basic(app)).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        response = token_request(client, pool, data, HTTP_AUTHORIZATION=_basic(app))
    assert response.status_code == 200, response.content
    assert _cache_statements(captured) == ([] if database_cache else ["INSERT"])
    assert len(captured) == 1 + len(_cache_statements(captured))
