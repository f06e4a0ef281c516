"""Pools, custom attributes, app clients and resource servers: every setting is validated."""

from __future__ import annotations

import pytest

from pool.errors import InvalidParameterException, LimitExceededException
from pool.models import AppClient, CustomAttribute, SigningKey, UserPool
from pool.models.client import DAY, HOUR, MINUTE
from pool.services import app_clients, pools, resource_servers


def make(**settings):
    return pools.create_pool(name=settings.pop("name", "Test pool"), **settings)


# --- pools ----------------------------------------------------------------------------------


def test_create_pool_makes_an_active_signing_key(db):
    pool = make()
    assert SigningKey.objects.filter(pool=pool, status=SigningKey.Status.ACTIVE).count() == 1


def test_create_pool_uses_region_in_id(db):
    assert make(region="eu-west-1").id.startswith("eu-west-1_")


@pytest.mark.parametrize("region", ["EU", "eu_west", "", "x" * 33])
def test_bad_region_is_refused(db, region):
    with pytest.raises(InvalidParameterException):
        make(region=region)


@pytest.mark.parametrize("name", ["", "x" * 129, "bad/name", "tab\tname"])
def test_bad_pool_name_is_refused(db, name):
    with pytest.raises(InvalidParameterException):
        make(name=name)


def test_unknown_setting_is_refused(db):
    with pytest.raises(InvalidParameterException, match="colour"):
        make(colour="blue")


def test_username_attributes_must_be_email_or_phone(db):
    with pytest.raises(InvalidParameterException):
        make(username_attributes=["preferred_username"])


def test_alias_attributes_must_be_known(db):
    with pytest.raises(InvalidParameterException):
        make(alias_attributes=["nickname"])


def test_username_and_alias_attributes_are_exclusive(db):
    with pytest.raises(InvalidParameterException, match="exclusive"):
        make(username_attributes=["email"], alias_attributes=["phone_number"])


def test_preferred_username_cannot_be_alias_and_required(db):
    with pytest.raises(InvalidParameterException, match="preferred_username"):
        make(alias_attributes=["preferred_username"], required_attributes=["preferred_username"])


def test_required_attributes_must_be_standard(db):
    with pytest.raises(InvalidParameterException):
        make(required_attributes=["custom:team"])


@pytest.mark.parametrize("length", [5, 100])
def test_password_min_length_outside_6_to_99_is_refused(db, length):
    with pytest.raises(InvalidParameterException, match="password_min_length"):
        make(password_min_length=length)


@pytest.mark.parametrize("length", [6, 99])
def test_password_min_length_bounds_are_allowed(db, length):
    assert make(password_min_length=length).password_min_length == length


def test_temporary_validity_zero_means_seven_days(db):
    assert make(temporary_password_validity_days=0).temporary_password_validity_days == 7


def test_temporary_validity_over_365_is_refused(db):
    with pytest.raises(InvalidParameterException):
        make(temporary_password_validity_days=366)


def test_mfa_configuration_must_be_known(db):
    with pytest.raises(InvalidParameterException):
        make(mfa_configuration="SOMETIMES")


def test_mfa_on_needs_a_method(db):
    with pytest.raises(InvalidParameterException, match="method"):
        make(mfa_configuration="ON", mfa_methods=[])


def test_mfa_off_may_have_no_method(db):
    assert make(mfa_configuration="OFF", mfa_methods=[]).mfa_methods == []


def test_unknown_mfa_method_is_refused(db):
    with pytest.raises(InvalidParameterException):
        make(mfa_methods=["CARRIER_PIGEON"])


def test_admin_only_recovery_is_alone(db):
    with pytest.raises(InvalidParameterException, match="admin_only"):
        make(account_recovery=["admin_only", "verified_email"])


def test_recovery_needs_a_mechanism(db):
    with pytest.raises(InvalidParameterException):
        make(account_recovery=[])


@pytest.mark.parametrize("minutes", [2, 16])
def test_auth_session_outside_3_to_15_minutes_is_refused(db, minutes):
    with pytest.raises(InvalidParameterException):
        make(auth_session_validity_minutes=minutes)


def test_invitation_template_needs_username_and_code(db):
    with pytest.raises(InvalidParameterException, match="username"):
        make(invitation_email_message="Your password is {####}")


def test_verification_template_needs_code(db):
    with pytest.raises(InvalidParameterException, match=r"\{####\}"):
        make(verification_email_message="Welcome!")


def test_booleans_must_be_booleans(db):
    with pytest.raises(InvalidParameterException):
        make(deletion_protection="yes")


def test_create_pool_with_custom_attributes(db):
    pool = make(custom_attributes=[{"name": "team"}, {"name": "level", "data_type": "Number"}])
    assert sorted(a.full_name for a in pool.custom_attributes.all()) == [
        "custom:level",
        "custom:team",
    ]


def test_failed_creation_leaves_no_pool(db):
    with pytest.raises(InvalidParameterException):
        make(custom_attributes=[{"name": "ok"}, {"name": "has space"}])
    assert not UserPool.objects.exists()


@pytest.mark.parametrize(
    "field,value",
    [
        ("username_attributes", ["email"]),
        ("alias_attributes", ["email"]),
        ("case_sensitive", True),
        ("required_attributes", ["name"]),
        ("custom_attributes", ["team"]),
        ("region", "eu-west-1"),
    ],
)
def test_update_refuses_settings_frozen_at_creation(db, field, value):
    pool = make()
    with pytest.raises(InvalidParameterException, match="cannot be changed"):
        pools.update_pool(pool=pool, **{field: value})


def test_update_accepts_frozen_settings_left_as_they_are(db):
    pool = make(alias_attributes=["email"])
    pools.update_pool(pool=pool, alias_attributes=["email"], mfa_configuration="OFF")
    pool.refresh_from_db()
    assert pool.mfa_configuration == "OFF"


def test_update_validates_changes(db):
    pool = make()
    with pytest.raises(InvalidParameterException):
        pools.update_pool(pool=pool, password_min_length=3)
    pool.refresh_from_db()
    assert pool.password_min_length == 8


def test_update_changes_policy(db):
    pool = make()
    pools.update_pool(pool=pool, password_min_length=12, password_require_symbols=False)
    pool.refresh_from_db()
    assert (pool.password_min_length, pool.password_require_symbols) == (12, False)


def test_delete_pool_refused_under_deletion_protection(db):
    pool = make(deletion_protection=True)
    with pytest.raises(InvalidParameterException, match="deletion protection"):
        pools.delete_pool(pool=pool)
    assert UserPool.objects.filter(pk=pool.pk).exists()


def test_delete_pool(db):
    pool = make()
    pools.delete_pool(pool=pool)
    assert not UserPool.objects.filter(pk=pool.pk).exists()


# --- custom attributes ----------------------------------------------------------------------


def test_custom_attribute_name_is_stored_without_prefix(pool):
    attribute = pools.add_custom_attribute(pool=pool, name="custom:team")
    assert attribute.full_name == "custom:team"


@pytest.mark.parametrize("name", ["", "x" * 21, "has space", "a:b"])
def test_custom_attribute_name_rules(pool, name):
    with pytest.raises(InvalidParameterException):
        pools.add_custom_attribute(pool=pool, name=name)


def test_custom_attribute_cannot_be_required(pool):
    with pytest.raises(InvalidParameterException, match="required"):
        pools.add_custom_attribute(pool=pool, name="team", required=True)


def test_custom_attribute_type_must_be_known(pool):
    with pytest.raises(InvalidParameterException):
        pools.add_custom_attribute(pool=pool, name="team", data_type="Blob")


def test_custom_attribute_cannot_be_redefined(pool):
    pools.add_custom_attribute(pool=pool, name="team")
    with pytest.raises(InvalidParameterException, match="cannot be changed"):
        pools.add_custom_attribute(pool=pool, name="team", data_type="Number")


def test_string_attribute_takes_lengths_not_values(pool):
    with pytest.raises(InvalidParameterException):
        pools.add_custom_attribute(pool=pool, name="team", min_value=1)


def test_number_attribute_min_not_above_max(pool):
    with pytest.raises(InvalidParameterException):
        pools.add_custom_attribute(
            pool=pool, name="lvl", data_type="Number", min_value=5, max_value=1
        )


def test_boolean_attribute_takes_no_limits(pool):
    with pytest.raises(InvalidParameterException):
        pools.add_custom_attribute(pool=pool, name="flag", data_type="Boolean", max_length=3)


def test_at_most_50_custom_attributes(pool):
    CustomAttribute.objects.bulk_create(CustomAttribute(pool=pool, name=f"a{i}") for i in range(50))
    with pytest.raises(LimitExceededException):
        pools.add_custom_attribute(pool=pool, name="one_more")


# --- app clients ----------------------------------------------------------------------------


def client(pool, **fields):
    fields.setdefault("callback_urls", ["https://app.example.com/cb"])
    return app_clients.create_client(pool=pool, name=fields.pop("name", "web"), **fields)


def test_client_id_is_26_lowercase_alphanumerics(pool):
    created, secret = client(pool)
    assert len(created.client_id) == 26 and created.client_id.isalnum()
    assert created.client_id == created.client_id.lower()
    assert secret == "" and not created.is_confidential


def test_secret_is_returned_once_and_encrypted_at_rest(pool):
    created, secret = client(pool, generate_secret=True)
    stored = AppClient.objects.get(pk=created.pk)
    assert len(secret) >= 40
    assert secret not in stored.secret
    assert stored.check_secret(secret)


def test_rotating_the_secret_voids_the_old_one(pool):
    created, old = client(pool, generate_secret=True)
    new = app_clients.rotate_client_secret(client=created)
    created.refresh_from_db()
    assert new != old and created.check_secret(new) and not created.check_secret(old)


def test_public_client_secret_cannot_be_rotated(pool):
    created, _ = client(pool)
    with pytest.raises(InvalidParameterException):
        app_clients.rotate_client_secret(client=created)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:3000/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
        "https://app.example.com/cb?x=1",
    ],
)
def test_allowed_callback_urls(pool, url):
    created, _ = client(pool, callback_urls=[url])
    assert created.callback_urls == [url]


@pytest.mark.parametrize(
    "url",
    [
        "http://app.example.com/cb",
        "/relative/cb",
        "https://app.example.com/cb#frag",
        "javascript:alert(1)",
        "https://user:pw@app.example.com/cb",
        "https:///nohost",
        " https://app.example.com/cb",
        "https://app.example.com:99999/cb",
    ],
)
def test_refused_callback_urls(pool, url):
    with pytest.raises(InvalidParameterException, match="callback_urls"):
        client(pool, callback_urls=[url])


def test_logout_urls_are_validated(pool):
    with pytest.raises(InvalidParameterException, match="logout_urls"):
        client(pool, logout_urls=["http://app.example.com/"])


def test_at_most_100_callback_urls(pool):
    with pytest.raises(InvalidParameterException):
        client(pool, callback_urls=[f"https://app.example.com/{i}" for i in range(101)])


def test_default_redirect_must_be_a_callback(pool):
    with pytest.raises(InvalidParameterException):
        client(pool, default_redirect_uri="https://other.example.com/")


def test_unknown_oauth_flow_is_refused(pool):
    with pytest.raises(InvalidParameterException):
        client(pool, allowed_oauth_flows=["password"])


def test_client_credentials_needs_a_secret(pool):
    resource_servers.create_resource_server(
        pool=pool, identifier="api", name="API", scopes=["read"]
    )
    with pytest.raises(InvalidParameterException, match="secret"):
        client(pool, allowed_oauth_flows=["client_credentials"], allowed_oauth_scopes=["api/read"])


def test_client_credentials_is_alone(pool):
    resource_servers.create_resource_server(
        pool=pool, identifier="api", name="API", scopes=["read"]
    )
    with pytest.raises(InvalidParameterException, match="combined"):
        client(
            pool,
            generate_secret=True,
            allowed_oauth_flows=["client_credentials", "code"],
            allowed_oauth_scopes=["api/read"],
        )


def test_client_credentials_with_custom_scope(pool):
    resource_servers.create_resource_server(
        pool=pool, identifier="api", name="API", scopes=["read"]
    )
    created, secret = client(
        pool,
        generate_secret=True,
        allowed_oauth_flows=["client_credentials"],
        allowed_oauth_scopes=["api/read"],
    )
    assert secret and created.allowed_oauth_flows == ["client_credentials"]


def test_client_credentials_refuses_standard_scopes(pool):
    with pytest.raises(InvalidParameterException):
        client(
            pool,
            generate_secret=True,
            allowed_oauth_flows=["client_credentials"],
            allowed_oauth_scopes=["openid"],
        )


def test_code_flow_needs_a_callback(pool):
    with pytest.raises(InvalidParameterException, match="callback"):
        client(pool, callback_urls=[])


def test_unknown_scope_is_refused(pool):
    with pytest.raises(InvalidParameterException, match="api/write"):
        client(pool, allowed_oauth_scopes=["openid", "api/write"])


@pytest.mark.parametrize(
    "field,value",
    [
        ("access_token_validity", 4 * MINUTE),
        ("access_token_validity", DAY + 1),
        ("id_token_validity", 4 * MINUTE),
        ("refresh_token_validity", 59 * MINUTE),
        ("refresh_token_validity", 3651 * DAY),
        ("auth_session_validity", 2 * MINUTE),
        ("auth_session_validity", 16 * MINUTE),
    ],
)
def test_token_validities_outside_cognito_ranges_are_refused(pool, field, value):
    with pytest.raises(InvalidParameterException, match=field):
        client(pool, **{field: value})


def test_refresh_validity_zero_means_thirty_days(pool):
    created, _ = client(pool, refresh_token_validity=0)
    assert created.refresh_token_validity == 30 * DAY


def test_refresh_must_outlive_access_token(pool):
    with pytest.raises(InvalidParameterException):
        client(pool, access_token_validity=DAY, refresh_token_validity=HOUR)


def test_explicit_auth_flows_must_be_known(pool):
    with pytest.raises(InvalidParameterException):
        client(pool, explicit_auth_flows=["ALLOW_EVERYTHING"])


def test_read_attributes_must_exist_in_schema(pool):
    with pytest.raises(InvalidParameterException, match="custom:team"):
        client(pool, read_attributes=["email", "custom:team"])


def test_read_attributes_may_name_custom_ones(pool):
    pools.add_custom_attribute(pool=pool, name="team")
    created, _ = client(pool, read_attributes=["email", "custom:team"])
    assert created.read_attributes == ["email", "custom:team"]


def test_write_attributes_refuse_immutable_custom(pool):
    pools.add_custom_attribute(pool=pool, name="born", mutable=False)
    with pytest.raises(InvalidParameterException, match="immutable"):
        client(pool, write_attributes=["custom:born"])


def test_unknown_client_field_is_refused(pool):
    with pytest.raises(InvalidParameterException):
        client(pool, colour="red")


def test_at_most_1000_clients(pool):
    AppClient.objects.bulk_create(
        AppClient(pool=pool, client_id=f"{i:026d}", name=f"c{i}") for i in range(1000)
    )
    with pytest.raises(LimitExceededException):
        client(pool)


def test_update_client_revalidates(pool):
    created, _ = client(pool)
    with pytest.raises(InvalidParameterException):
        app_clients.update_client(client=created, callback_urls=["http://app.example.com/"])
    created.refresh_from_db()
    assert created.callback_urls == ["https://app.example.com/cb"]


def test_update_client_changes_urls(pool):
    created, _ = client(pool)
    app_clients.update_client(client=created, callback_urls=["https://new.example.com/cb"])
    created.refresh_from_db()
    assert created.callback_urls == ["https://new.example.com/cb"]


def test_delete_client(pool):
    created, _ = client(pool)
    app_clients.delete_client(client=created)
    assert not AppClient.objects.filter(pk=created.pk).exists()


# --- resource servers -----------------------------------------------------------------------


def test_resource_server_scopes_become_client_scopes(pool):
    server = resource_servers.create_resource_server(
        pool=pool, identifier="https://api.example.com", name="API", scopes=["read", "write"]
    )
    assert server.full_scopes == ["https://api.example.com/read", "https://api.example.com/write"]


@pytest.mark.parametrize("scope", ["has space", "a/b", 'quo"te', ""])
def test_resource_server_scope_names_are_validated(pool, scope):
    with pytest.raises(InvalidParameterException):
        resource_servers.create_resource_server(
            pool=pool, identifier="api", name="API", scopes=[scope]
        )


def test_resource_server_identifier_is_unique(pool):
    resource_servers.create_resource_server(pool=pool, identifier="api", name="API")
    with pytest.raises(InvalidParameterException, match="already exists"):
        resource_servers.create_resource_server(pool=pool, identifier="api", name="Again")


def test_duplicate_scope_is_refused(pool):
    with pytest.raises(InvalidParameterException, match="twice"):
        resource_servers.create_resource_server(
            pool=pool, identifier="api", name="API", scopes=["r", "r"]
        )


def test_removed_scope_is_taken_from_clients(pool):
    server = resource_servers.create_resource_server(
        pool=pool, identifier="api", name="API", scopes=["read", "write"]
    )
    created, _ = client(pool, allowed_oauth_scopes=["openid", "api/read", "api/write"])
    resource_servers.update_resource_server(server=server, scopes=["read"])
    created.refresh_from_db()
    assert created.allowed_oauth_scopes == ["openid", "api/read"]


def test_deleting_resource_server_takes_its_scopes_from_clients(pool):
    server = resource_servers.create_resource_server(
        pool=pool, identifier="api", name="API", scopes=["r"]
    )
    created, _ = client(pool, allowed_oauth_scopes=["openid", "api/r"])
    resource_servers.delete_resource_server(server=server)
    created.refresh_from_db()
    assert created.allowed_oauth_scopes == ["openid"]


def test_add_custom_attributes_is_all_or_nothing(db):
    pool = make()
    with pytest.raises(InvalidParameterException, match="already exists"):
        pools.add_custom_attributes(
            pool=pool, definitions=[{"name": "team"}, {"name": "plan"}, {"name": "team"}]
        )
    assert not CustomAttribute.objects.filter(pool=pool).exists()
    pools.add_custom_attributes(pool=pool, definitions=[{"name": "team"}, {"name": "plan"}])
    assert sorted(a.name for a in CustomAttribute.objects.filter(pool=pool)) == ["plan", "team"]


def test_add_custom_attributes_needs_one(db):
    with pytest.raises(InvalidParameterException):
        pools.add_custom_attributes(pool=make(), definitions=[])
