"""The Amazon SNS SMS adapter (pool.messaging.SnsSmsSender), against a real HTTP server on
loopback standing in for SNS: the Publish request it makes, its failures becoming
CodeDeliveryFailureException, and no log line that prints the code, even at DEBUG."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from pool import messaging
from pool.errors import CodeDeliveryFailureException
from pool.models import OutboxMessage
from pool.services import attributes
from pool.services.results import RequestContext
from tests import factories
from tests.conftest import free_port
from tests.pool.helpers import code_in

CTX = RequestContext(source="api")
PHONE = "+15555550177"
PUBLISHED = b"""<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
<PublishResult><MessageId>6c3f1d0e-0000-4000-8000-000000000001</MessageId></PublishResult>
<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></PublishResponse>"""
REFUSED = b"""<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
<Error><Type>Sender</Type><Code>InvalidParameter</Code>
<Message>Invalid parameter: PhoneNumber</Message></Error><RequestId>req-2</RequestId>
</ErrorResponse>"""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeSns:
    """What the loopback SNS received, and what it answers (status, body)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answer: tuple[int, bytes] = (200, PUBLISHED)


@pytest.fixture
def sns(settings, monkeypatch) -> Iterator[FakeSns]:
    port = free_port()
    fake = FakeSns(url=f"http://127.0.0.1:{port}")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            form = {name: values[0] for name, values in parse_qs(body).items()}
            fake.requests.append(Received(self.path, dict(self.headers), form))
            status, answer = fake.answer
            self.send_response(status)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "AKIDTESTCOGNATE",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "AWS_CONFIG_FILE": "/nonexistent",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings.SMS_SENDER = "pool.messaging.SnsSmsSender"
    settings.SNS_REGION = "eu-west-1"
    settings.SNS_ENDPOINT_URL = fake.url
    settings.SNS_SENDER_ID = "ACME"
    settings.SNS_SMS_TYPE = "Transactional"
    settings.SNS_ORIGINATION_NUMBER = ""
    messaging.sms_sender.cache_clear()
    try:
        yield fake
    finally:
        messaging.sms_sender.cache_clear()
        server.shutdown()
        server.server_close()


@pytest.fixture
def pool(db):
    return factories.make_pool(verification_sms_message="Your Acme code is {####}")


def send_phone_code(pool) -> None:
    user = factories.make_user(pool, "alice", phone_number=PHONE)
    attributes.send_attribute_verification_code(user=user, attribute="phone_number", context=CTX)


def test_a_code_by_sms_is_published_to_sns(pool, sns):
    send_phone_code(pool)
    [request] = sns.requests
    assert request.form["Action"] == "Publish"
    assert request.form["PhoneNumber"] == PHONE
    code = code_in(request.form["Message"])
    assert request.form["Message"] == f"Your Acme code is {code}"
    assert not OutboxMessage.objects.filter(channel=OutboxMessage.Channel.SMS).exists()


def test_the_publish_carries_the_configured_sms_attributes(pool, sns):
    send_phone_code(pool)
    form = sns.requests[0].form
    attributes_sent = {
        form[f"MessageAttributes.entry.{n}.Name"]: form[
            f"MessageAttributes.entry.{n}.Value.StringValue"
        ]
        for n in (1, 2)
    }
    assert attributes_sent == {
        "AWS.SNS.SMS.SMSType": "Transactional",
        "AWS.SNS.SMS.SenderID": "ACME",
    }


def test_the_publish_is_signed_for_the_configured_region(pool, sns):
    send_phone_code(pool)
    authorization = sns.requests[0].headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDTESTCOGNATE/")
    assert "/eu-west-1/sns/aws4_request" in authorization


def test_a_refusal_from_sns_is_a_code_delivery_failure(pool, sns):
    sns.answer = (400, REFUSED)
    with pytest.raises(CodeDeliveryFailureException) as refused:
        send_phone_code(pool)
    assert len(sns.requests) == 1
    assert isinstance(refused.value.__cause__, ClientError)


def test_a_server_error_is_a_code_delivery_failure_after_one_attempt(pool, sns):
    sns.answer = (500, b"<html>oops</html>")
    with pytest.raises(CodeDeliveryFailureException):
        send_phone_code(pool)
    assert len(sns.requests) == 1  # the user is waiting: no retries


def test_an_unreachable_sns_is_a_code_delivery_failure(pool, sns, settings):
    settings.SNS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    messaging.sms_sender.cache_clear()
    with pytest.raises(CodeDeliveryFailureException) as unreachable:
        send_phone_code(pool)
    assert isinstance(unreachable.value.__cause__, EndpointConnectionError)


def test_no_log_line_prints_the_code_even_at_debug(pool, sns, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="botocore")
    caplog.set_level(logging.DEBUG, logger="urllib3")
    send_phone_code(pool)
    code = code_in(sns.requests[0].form["Message"])
    assert any(record.name.startswith("botocore") for record in caplog.records)  # DEBUG was on
    assert code not in caplog.text
    assert all(code not in record.getMessage() for record in caplog.records)


def test_no_log_line_prints_the_code_when_sns_refuses(pool, sns, caplog):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="botocore")
    sns.answer = (400, REFUSED)
    with pytest.raises(CodeDeliveryFailureException):
        send_phone_code(pool)
    code = code_in(sns.requests[0].form["Message"])
    assert code not in caplog.text
