"""Property-based fuzzing of the JSON API door: random operations (registered, Cognito's own
but not answered, and made up), bodies built from Cognito's model and then bent (wrong types,
lengths, unknown members, raw bytes), signed and unsigned.

Properties: never a 5xx; every answer is JSON (an error with `__type`, `message` and the
`x-amzn-ErrorType` header); a refused call writes nothing (rows counted before and after)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from api import shapes
from api.models import AccessKey
from api.registry import ACTIONS
from pool.models import (
    AppClient,
    CustomAttribute,
    FederatedIdentity,
    Group,
    IdentityProvider,
    ResourceServer,
    SigningKey,
    User,
    UserPool,
)
from tests.api.conftest import CONTENT_TYPE

pytestmark = pytest.mark.django_db

FUZZ = fuzz_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
COUNTED = (
    UserPool,
    AppClient,
    ResourceServer,
    CustomAttribute,
    SigningKey,
    AccessKey,
    User,
    Group,
    IdentityProvider,
    FederatedIdentity,
)
POOL_ID = "eu-west-1_Fuzz00001"

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
any_json = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


def from_shape(name: str, depth: int = 0) -> st.SearchStrategy:
    """Values shaped like Cognito's model says, sometimes bent out of shape."""
    shape = shapes.model()["shapes"][name]
    kind = shape["type"]
    if depth > 4:
        return json_leaf
    if kind == "structure":
        members = shape.get("members", {})
        fields = {m: from_shape(spec["shape"], depth + 1) for m, spec in members.items()}
        required = {m: fields[m] for m in shape.get("required", ()) if m in fields}
        optional = {m: s for m, s in fields.items() if m not in required}
        good = st.fixed_dictionaries(required, optional=optional)
    elif kind == "list":
        good = st.lists(from_shape(shape["member"]["shape"], depth + 1), max_size=4)
    elif kind == "map":
        good = st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3)
    elif kind == "string":
        if "enum" in shape:
            good = st.sampled_from(shape["enum"])
        elif name == "UserPoolIdType":
            good = st.sampled_from([POOL_ID, "eu-west-1_Missing01"])
        else:
            low = shape.get("min", 0)
            good = st.text(min_size=low, max_size=max(min(shape.get("max", 30), 30), low))
    elif kind in ("integer", "long"):
        good = st.integers(min_value=shape.get("min", -5) - 2, max_value=shape.get("max", 100) + 2)
    elif kind == "boolean":
        good = st.booleans()
    else:
        good = json_leaf
    return st.one_of(good, good, good, any_json)


@st.composite
def calls(draw):
    registered = sorted(ACTIONS)
    others = st.one_of(st.sampled_from(sorted(shapes.operation_names())), st.text(max_size=30))
    # Mostly operations the door answers, signed, with a JSON body: that is where the code is.
    action = draw(st.sampled_from(registered) if draw(st.integers(0, 9)) < 8 else others)
    if action in shapes.operation_names() and shapes.input_shape(action):
        body = draw(from_shape(shapes.input_shape(action)))
    else:
        body = draw(any_json)
    raw = json.dumps(body).encode() if draw(st.integers(0, 9)) < 9 else draw(st.binary(max_size=60))
    return action, raw, draw(st.integers(0, 9)) < 8


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@FUZZ
@given(call=calls())
def test_the_door_never_fails_and_refusals_write_nothing(api, access_key, call):
    action, raw, sign = call
    if not UserPool.objects.filter(pk=POOL_ID).exists():
        UserPool.objects.create(id=POOL_ID, name="fuzz", region="eu-west-1")
    before = counts()
    try:
        response = api.post(action, raw=raw, sign=sign)
    except (UnicodeEncodeError, ValueError):
        return  # a target no HTTP client could send as a header
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == CONTENT_TYPE
    body = json.loads(response.content)
    event(f"{response.status_code} {body.get('__type', action)}")
    if response.status_code != 200:
        assert response["x-amzn-ErrorType"] == body["__type"]
        assert isinstance(body["message"], str)
        assert counts() == before, (action, body)
