"""The JSON API door itself, through Django's test client: framing, unknown operations, CORS,
request shapes, rate limiting. Every refusal is JSON in Cognito's error format, never HTML."""

from __future__ import annotations

import json

import pytest

from pool.models import UserPool
from tests import factories
from tests.api.conftest import CONTENT_TYPE, TARGET

pytestmark = pytest.mark.django_db


def error_of(response) -> tuple[int, str, str]:
    assert response["Content-Type"] == CONTENT_TYPE
    body = json.loads(response.content)
    assert response["x-amzn-ErrorType"] == body["__type"]
    return response.status_code, body["__type"], body["message"]


def test_malformed_json_is_a_serialization_error(api, access_key):
    response = api.post("ListUserPools", raw=b'{"MaxResults": 1', sign=True)
    status, code, _ = error_of(response)
    assert (status, code) == (400, "SerializationException")


def test_a_body_that_is_not_an_object_is_refused(api, access_key):
    status, code, message = error_of(api.post("ListUserPools", raw=b"[1, 2]"))
    assert (status, code) == (400, "SerializationException")
    assert "JSON object" in message


def test_unknown_action_is_unknown_operation(api):
    status, code, _ = error_of(api.post("MakeCoffee", {}, sign=False))
    assert (status, code) == (400, "UnknownOperationException")


def test_an_operation_of_cognito_that_cognate_does_not_answer_is_unknown(api):
    status, code, _ = error_of(api.post("ListTagsForResource", {"ResourceArn": "x"}))
    assert (status, code) == (400, "UnknownOperationException")


def test_missing_target_is_unknown_operation(api):
    status, code, message = error_of(api.post(None, {}))
    assert (status, code) == (400, "UnknownOperationException")
    assert "X-Amz-Target" in message


def test_a_target_of_another_service_is_unknown_operation(api):
    response = api.post(None, {}, headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert error_of(response)[:2] == (400, "UnknownOperationException")


def test_wrong_content_type_is_refused(api, access_key):
    response = api.post("ListUserPools", {"MaxResults": 1}, content_type="application/json")
    assert error_of(response)[:2] == (400, "SerializationException")


def test_get_is_answered_in_json(client, db):
    status, code, _ = error_of(client.get("/"))
    assert (status, code) == (400, "UnknownOperationException")


def test_cors_preflight_allows_any_origin_and_the_sdk_headers(client, db):
    response = client.options(
        "/",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,x-amz-target,x-amz-user-agent,x-custom",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "x-amz-target", "x-amz-user-agent", "x-custom"} <= allowed
    assert "authorization" in allowed


def test_answers_and_errors_carry_cors_headers(api):
    response = api.post("MakeCoffee", {}, sign=False)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "x-amzn-ErrorType" in response["Access-Control-Expose-Headers"]
    assert "x-amzn-RequestId" in response["Access-Control-Expose-Headers"]


def test_the_door_needs_no_csrf_token(db, access_key):
    from django.test import Client

    from tests.api.conftest import Api

    strict = Api(Client(enforce_csrf_checks=True))
    response = strict.post("ListUserPools", {"MaxResults": 5})
    assert response.status_code == 200


def test_a_missing_required_member_is_invalid_parameter_in_cognitos_words(api, access_key):
    status, code, message = error_of(api.post("ListUserPools", {}))
    assert (status, code) == (400, "InvalidParameterException")
    assert message == (
        "1 validation error detected: Value null at 'maxResults' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_out_of_range_and_wrong_type_are_each_named(api, access_key):
    response = api.post("CreateUserPool", {"PoolName": "p" * 129, "MfaConfiguration": "SOMETIMES"})
    status, code, message = error_of(response)
    assert (status, code) == (400, "InvalidParameterException")
    assert message.startswith("2 validation errors detected:")
    assert "at 'poolName' failed to satisfy constraint: Member must have length less" in message
    assert "Member must satisfy enum value set: [OFF, ON, OPTIONAL]" in message
    assert not UserPool.objects.exists()


def test_a_nested_member_is_named_by_its_path(api, access_key):
    pool = factories.make_pool()
    body = {"UserPoolId": pool.id, "Policies": {"PasswordPolicy": {"MinimumLength": "8"}}}
    _, code, message = error_of(api.post("UpdateUserPool", body))
    assert code == "InvalidParameterException"
    assert "at 'policies.passwordPolicy.minimumLength'" in message
    assert "Member must be of type integer" in message


def test_sensitive_values_are_not_echoed(api, access_key):
    pool = factories.make_pool()
    body = {"UserPoolId": pool.id, "ClientId": "bad id!"}
    _, code, message = error_of(api.post("DescribeUserPoolClient", body))
    assert code == "InvalidParameterException"
    assert "bad id!" not in message
    assert "Value at 'clientId'" in message


def test_the_door_has_its_own_rate_limit(api, access_key, settings):
    settings.RATE_LIMIT_API_PER_MINUTE = 3
    for _ in range(3):
        assert api.post("ListUserPools", {"MaxResults": 1}).status_code == 200
    status, code, _ = error_of(api.post("ListUserPools", {"MaxResults": 1}))
    assert (status, code) == (429, "TooManyRequestsException")


def test_the_rate_limit_counts_refused_calls_too(api, settings):
    settings.RATE_LIMIT_API_PER_MINUTE = 2
    api.post("MakeCoffee", {}, sign=False)
    api.post("MakeCoffee", {}, sign=False)
    assert error_of(api.post("MakeCoffee", {}, sign=False))[1] == "TooManyRequestsException"


def test_a_successful_answer_is_json_with_a_request_id(api, access_key):
    response = api.post("ListUserPools", {"MaxResults": 1})
    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE
    assert response["x-amzn-RequestId"]
    assert json.loads(response.content) == {"UserPools": []}


def test_target_prefix_is_cognitos():
    assert TARGET == "AWSCognitoIdentityProviderService."


def test_an_oversized_body_is_refused_in_json(api, access_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = api.post("CreateUserPool", {"PoolName": "x" * 2000}, sign=False)
    status, code, _ = error_of(response)
    assert (status, code) == (413, "RequestEntityTooLargeException")
    assert not UserPool.objects.exists()


def test_an_unexpected_failure_is_internal_error_in_json(api, access_key, settings):
    """Secrets that no configured key decrypts (a misconfigured COGNATE_ENCRYPTION_KEYS) fail
    loudly in the server log; the caller gets Cognito's InternalErrorException, never HTML."""
    from pool import crypto

    settings.ENCRYPTION_KEYS = ["a-key-that-encrypted-nothing-here"]
    crypto.reset_caches()
    status, code, _ = error_of(api.post("ListUserPools", {"MaxResults": 1}))
    assert (status, code) == (500, "InternalErrorException")


def test_a_null_member_is_an_absent_one(api, access_key):
    """JSON null where a member may be left out (what the fuzzer sent: AdminCreateUser with
    "DesiredDeliveryMediums": null) is answered as if it were absent, never a 500."""
    from pool.models import User

    pool = UserPool.objects.create(id="eu-west-1_Nulls0001", name="nulls", region="eu-west-1")
    raw = (
        b'{"UserPoolId": "eu-west-1_Nulls0001", "Username": "nell",'
        b' "DesiredDeliveryMediums": null, "TemporaryPassword": null,'
        b' "UserAttributes": [{"Name": "email", "Value": "nell@example.com"},'
        b' {"Name": "name", "Value": null}], "MessageAction": "SUPPRESS"}'
    )
    response = api.post("AdminCreateUser", raw=raw)
    assert response.status_code == 200, response.content
    assert User.objects.filter(pool=pool, username="nell").exists()


def test_a_null_list_item_is_invalid_parameter(api, access_key):
    pool = UserPool.objects.create(id="eu-west-1_Nulls0002", name="nulls", region="eu-west-1")
    raw = (
        b'{"UserPoolId": "eu-west-1_Nulls0002", "Username": "nell", "UserAttributes": [null],'
        b' "MessageAction": "SUPPRESS"}'
    )
    status, code, message = error_of(api.post("AdminCreateUser", raw=raw))
    assert (status, code) == (400, "InvalidParameterException")
    assert message == (
        "1 validation error detected: Value null at 'userAttributes.1.member' failed to "
        "satisfy constraint: Member must not be null"
    )
    assert not pool.users.exists()
