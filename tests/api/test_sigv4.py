"""SigV4 on admin actions: calls signed by botocore's own signer pass; unsigned, badly signed,
stale, foreign-scoped or unknown-key calls get the errors AWS sends, and change nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from api.access_keys import create_access_key, deactivate_access_key
from api.models import AccessKey
from pool import clock
from pool.models import UserPool
from tests.api.conftest import IMPORTED_ID, IMPORTED_SECRET, signed_headers

pytestmark = pytest.mark.django_db
CREATE = {"PoolName": "signed"}


def refused(response) -> tuple[int, str, str]:
    body = json.loads(response.content)
    assert response["x-amzn-ErrorType"] == body["__type"]
    return response.status_code, body["__type"], body["message"]


def test_a_call_signed_by_botocore_passes(api, access_key):
    response = api.post("CreateUserPool", CREATE)
    assert response.status_code == 200, response.content
    assert UserPool.objects.filter(name="signed").exists()


def test_the_pool_id_carries_the_region_of_the_credential_scope(api, access_key):
    response = api.post("CreateUserPool", CREATE, region="ap-southeast-2")
    pool_id = json.loads(response.content)["UserPool"]["Id"]
    assert pool_id.startswith("ap-southeast-2_")
    assert UserPool.objects.get(pk=pool_id).region == "ap-southeast-2"


def test_unsigned_admin_call_is_missing_authentication_token(api, access_key):
    status, code, message = refused(api.post("CreateUserPool", CREATE, sign=False))
    assert (status, code, message) == (
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )
    assert not UserPool.objects.exists()


def test_wrong_secret_is_invalid_signature(api, access_key):
    response = api.post("CreateUserPool", CREATE, secret=IMPORTED_SECRET[:-1] + "X")
    status, code, message = refused(response)
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith("The request signature we calculated does not match")
    assert not UserPool.objects.exists()


def test_unknown_key_is_unrecognized_client(api, access_key):
    response = api.post("CreateUserPool", CREATE, key_id="AKIAUNKNOWNKEY000000")
    assert refused(response) == (
        400,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


def test_a_deactivated_key_is_unrecognized(api, access_key):
    deactivate_access_key(access_key_id=IMPORTED_ID)
    assert refused(api.post("CreateUserPool", CREATE))[1] == "UnrecognizedClientException"
    assert not UserPool.objects.exists()


def test_a_signature_older_than_15_minutes_is_expired(api, access_key):
    headers = signed_headers("CreateUserPool", json.dumps(CREATE).encode())
    clock.freeze(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16))
    response = api.post("CreateUserPool", CREATE, sign=False, headers=headers)
    status, code, message = refused(response)
    assert (status, code) == (400, "InvalidSignatureException")
    assert message.startswith("Signature expired:")
    assert not UserPool.objects.exists()


def test_a_signature_within_15_minutes_is_accepted(api, access_key):
    headers = signed_headers("CreateUserPool", json.dumps(CREATE).encode())
    clock.freeze(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=14))
    response = api.post("CreateUserPool", CREATE, sign=False, headers=headers)
    assert response.status_code == 200


def test_a_signature_from_the_future_is_not_yet_current(api, access_key):
    headers = signed_headers("CreateUserPool", json.dumps(CREATE).encode())
    clock.freeze(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    _, code, message = refused(api.post("CreateUserPool", CREATE, sign=False, headers=headers))
    assert code == "InvalidSignatureException"
    assert message.startswith("Signature not yet current:")


def test_a_scope_for_another_service_is_refused(api, access_key):
    response = api.post("CreateUserPool", CREATE, service="dynamodb")
    _, code, message = refused(response)
    assert code == "InvalidSignatureException"
    assert "cognito-idp" in message


def test_any_region_is_accepted_in_the_scope(api, access_key):
    assert api.post("ListUserPools", {"MaxResults": 1}, region="us-gov-west-1").status_code == 200


def test_a_changed_body_breaks_the_signature(api, access_key):
    headers = signed_headers("CreateUserPool", json.dumps(CREATE).encode())
    response = api.post("CreateUserPool", {"PoolName": "other"}, sign=False, headers=headers)
    assert refused(response)[1] == "InvalidSignatureException"
    assert not UserPool.objects.exists()


def test_a_signature_cannot_be_moved_to_another_operation(api, access_key):
    body = {"MaxResults": 1}
    headers = signed_headers("ListUserPools", json.dumps(body).encode())
    headers["X-Amz-Target"] = "AWSCognitoIdentityProviderService.CreateUserPool"
    response = api.post("CreateUserPool", body, sign=False, headers=headers)
    assert refused(response)[1] == "InvalidSignatureException"


def test_an_authorization_header_without_its_parts_is_incomplete(api, access_key):
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/x"}
    response = api.post("CreateUserPool", CREATE, sign=False, headers=headers)
    status, code, message = refused(response)
    assert (status, code) == (400, "IncompleteSignatureException")
    assert "'Signature'" in message and "'SignedHeaders'" in message


def test_another_algorithm_is_incomplete_signature(api, access_key):
    headers = {"Authorization": "Bearer abc"}
    response = api.post("CreateUserPool", CREATE, sign=False, headers=headers)
    assert refused(response)[1] == "IncompleteSignatureException"


def test_a_session_token_is_never_ours(api, access_key):
    body = json.dumps(CREATE).encode()
    headers = signed_headers("CreateUserPool", body)
    headers["X-Amz-Security-Token"] = "FwoGZXIvYXdzE"
    response = api.post("CreateUserPool", CREATE, sign=False, headers=headers)
    assert refused(response)[1] == "UnrecognizedClientException"


def test_a_non_ascii_signature_is_an_invalid_signature_not_a_crash(api, access_key):
    headers = signed_headers("CreateUserPool", json.dumps(CREATE).encode())
    headers["Authorization"] = headers["Authorization"].rsplit("=", 1)[0] + "=é"
    response = api.post("CreateUserPool", CREATE, sign=False, headers=headers)
    assert refused(response)[1] == "InvalidSignatureException"


def test_a_generated_key_signs_too(api, db):
    issued = create_access_key()
    assert issued.access_key_id.startswith("AKIA") and len(issued.secret_access_key) == 40
    response = api.post(
        "ListUserPools",
        {"MaxResults": 1},
        key_id=issued.access_key_id,
        secret=issued.secret_access_key,
    )
    assert response.status_code == 200


def test_a_verified_call_marks_the_key_used(api, access_key):
    assert AccessKey.objects.get(pk=IMPORTED_ID).last_used_at is None
    api.post("ListUserPools", {"MaxResults": 1})
    assert AccessKey.objects.get(pk=IMPORTED_ID).last_used_at is not None


def test_a_signature_that_leaves_the_target_out_is_refused(api, access_key):
    """Stricter than AWS: with X-Amz-Target unsigned, a captured call could be replayed
    against another operation with the same body."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    body = json.dumps({"MaxResults": 1}).encode()
    request = AWSRequest(
        method="POST",
        url="http://testserver/",
        data=body,
        headers={"Content-Type": "application/x-amz-json-1.1"},
    )
    SigV4Auth(Credentials(IMPORTED_ID, IMPORTED_SECRET), "cognito-idp", "eu-west-1").add_auth(
        request
    )
    headers = dict(request.headers.items())
    assert "x-amz-target" not in headers["Authorization"]
    response = api.post("ListUserPools", {"MaxResults": 1}, sign=False, headers=headers)
    status, code, message = refused(response)
    assert (status, code) == (400, "InvalidSignatureException")
    assert "x-amz-target" in message
