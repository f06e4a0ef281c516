"""A real SAML 2.0 identity provider for tests: pysaml2's IdP side (`saml2.server.Server`) in a
small WSGI app on a loopback port, signing with an RSA key made at test time.

Endpoints: `/metadata` (its metadata), `/sso/redirect` (HTTP-Redirect AuthnRequest -> an
auto-posting HTML form to the SP's ACS, the user `subject` with `attributes` already "signed
in"), `/slo/redirect` (our LogoutRequest -> a LogoutResponse redirected back). Knobs on the
object shape the next answers, for the negative tests: `sign_assertion`, `audience`,
`destination`, `lifetime_minutes`, `in_response_to`, `fail_status`, `tamper`, `encrypt`,
`recipient`.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import tempfile
import threading
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name, samlp, xmldsig
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part

EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
GIVEN_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"


def _key_pair(folder: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_file, cert_file


class _Threaded(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class SamlIdp:
    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="test-idp-")
        folder = Path(self._folder.name)
        self.key_file, self.cert_file = _key_pair(folder, "idp")
        self._httpd = make_server(
            "127.0.0.1", 0, self._app, server_class=_Threaded, handler_class=_Quiet
        )
        self.base = f"http://127.0.0.1:{self._httpd.server_port}"
        self.entity_id = f"{self.base}/metadata"
        self.sp_metadata: list[str] = []
        self.server: Server | None = None
        self.subject = "jdoe"
        self.attributes = {EMAIL: ["jdoe@example.org"], GIVEN_NAME: ["Jane"]}
        self.logout_requests: list[samlp.LogoutRequest] = []
        self.reset()
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        """The well-behaved IdP again."""
        self.sign_assertion = True
        self.sign_response = False
        self.audience: str | None = None
        self.destination: str | None = None
        self.lifetime_minutes = 5
        self.in_response_to: str | None = "<request>"
        self.fail_status: str | None = None
        self.tamper: tuple[str, str] | None = None
        self.encrypt = False
        self.recipient: str | None = None

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._folder.cleanup()

    # ------------------------------------------------------------------ configuration

    def _config(self) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": self.entity_id,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [
                                (f"{self.base}/sso/redirect", BINDING_HTTP_REDIRECT)
                            ],
                            "single_logout_service": [
                                (f"{self.base}/slo/redirect", BINDING_HTTP_REDIRECT)
                            ],
                        },
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": self.lifetime_minutes},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_URI,
                            }
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "want_authn_requests_signed": True,
                        "signing_algorithm": xmldsig.SIG_RSA_SHA256,
                        "digest_algorithm": xmldsig.DIGEST_SHA256,
                    }
                },
                "key_file": str(self.key_file),
                "cert_file": str(self.cert_file),
                "metadata": {"inline": list(self.sp_metadata)} if self.sp_metadata else {},
                "allow_unknown_attributes": True,
            }
        )
        return config

    def trust(self, sp_metadata: str) -> None:
        """Know the SP (our pool) from its metadata."""
        self.sp_metadata = [sp_metadata]
        self.server = Server(config=self._config())

    def metadata(self) -> str:
        return entity_descriptor(self._config()).to_string().decode()

    # ------------------------------------------------------------------------ answers

    def authn_response(self, *, in_response_to: str | None, sp_entity_id: str, acs: str) -> str:
        """A SAMLResponse (base64) as the knobs say."""
        xml = self.authn_response_xml(
            in_response_to=in_response_to, sp_entity_id=sp_entity_id, acs=acs
        )
        return base64.b64encode(xml.encode()).decode()

    def authn_response_xml(self, *, in_response_to: str | None, sp_entity_id: str, acs: str) -> str:
        self.server = Server(config=self._config())  # picks up lifetime_minutes
        destination = self.destination or acs
        if self.fail_status:
            response = self.server.create_error_response(
                in_response_to, destination, info=(samlp.STATUS_AUTHN_FAILED, self.fail_status)
            )
            xml = str(response)
        else:
            if self.in_response_to != "<request>":
                in_response_to = self.in_response_to
            response = self.server.create_authn_response(
                identity=dict(self.attributes),
                in_response_to=in_response_to,
                destination=destination,
                sp_entity_id=self.audience or sp_entity_id,
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=self.subject),
                authn={"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"},
                sign_assertion=self.sign_assertion and not self.recipient,
                sign_response=self.sign_response,
                sign_alg=xmldsig.SIG_RSA_SHA256,
                digest_alg=xmldsig.DIGEST_SHA256,
                # To the SP's encryption certificate from its metadata.
                encrypt_assertion=self.encrypt,
                encrypt_assertion_self_contained=True,
            )
            xml = str(response)
            if self.recipient:
                xml = self._resign_with_recipient(response, self.recipient)
        if self.tamper:
            before, after = self.tamper
            assert before in xml, "nothing to tamper with"
            xml = xml.replace(before, after)
        return xml

    def _resign_with_recipient(self, response, recipient: str) -> str:
        """The response with another SubjectConfirmationData Recipient (Destination kept), the
        assertion signed again by this IdP: only the recipient check can refuse it."""
        assertion = response.assertion
        for confirmation in assertion.subject.subject_confirmation:
            confirmation.subject_confirmation_data.recipient = recipient
        assertion.signature = pre_signature_part(
            assertion.id,
            self.server.sec.my_cert,
            1,
            digest_alg=xmldsig.DIGEST_SHA256,
            sign_alg=xmldsig.SIG_RSA_SHA256,
        )
        return self.server.sec.sign_statement(
            str(response), class_name(assertion), node_id=assertion.id
        )

    def idp_initiated(self, *, sp_entity_id: str, acs: str) -> str:
        return self.authn_response(in_response_to=None, sp_entity_id=sp_entity_id, acs=acs)

    def logout_request_url(self, *, sp_entity_id: str, slo: str, name_id_text: str) -> str:
        """An IdP-initiated LogoutRequest to the SP, signed (HTTP-Redirect)."""
        _id, request = self.server.create_logout_request(
            slo,
            self.entity_id,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id_text),
            sign=False,
        )
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(request),
            slo,
            "idp-logout",
            sign=True,
            sigalg=xmldsig.SIG_RSA_SHA256,
        )
        return dict(info["headers"])["Location"]

    # ---------------------------------------------------------------------------- WSGI

    def _app(self, environ, start_response):
        path = environ["PATH_INFO"]
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        try:
            if path == "/metadata":
                body = self.metadata().encode()
                start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
                return [body]
            if path == "/sso/redirect":
                return self._sso(query, start_response)
            if path == "/slo/redirect":
                return self._slo(query, start_response)
        except Exception as exc:  # a test IdP: say what went wrong
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [f"{type(exc).__name__}: {exc}".encode()]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    def _sso(self, query: dict, start_response):
        request = self.server.parse_authn_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        message = request.message
        saml_response = self.authn_response_xml(
            in_response_to=message.id,
            sp_entity_id=message.issuer.text,
            acs=message.assertion_consumer_service_url,
        )
        info = self.server.apply_binding(
            BINDING_HTTP_POST,
            saml_response,
            message.assertion_consumer_service_url,
            query.get("RelayState", ""),
            response=True,
        )
        start_response("200 OK", [("Content-Type", "text/html")])
        return [info["data"].encode() if isinstance(info["data"], str) else info["data"]]

    def _slo(self, query: dict, start_response):
        request = self.server.parse_logout_request(
            query["SAMLRequest"],
            BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"),
            signature=query.get("Signature"),
        )
        self.logout_requests.append(request.message)
        response = self.server.create_logout_response(
            request.message, [BINDING_HTTP_REDIRECT], sign=False
        )
        destination = self.server.metadata.single_logout_service(
            request.message.issuer.text, BINDING_HTTP_REDIRECT, "spsso"
        )[0]["location"]
        info = self.server.apply_binding(
            BINDING_HTTP_REDIRECT,
            str(response),
            destination,
            query.get("RelayState", ""),
            response=True,
            sign=True,
            sigalg=xmldsig.SIG_RSA_SHA256,
        )
        start_response("302 Found", [("Location", dict(info["headers"])["Location"])])
        return [b""]


FORM_FIELD = re.compile(r'name="(SAMLResponse|RelayState)"\s+value="([^"]*)"')


def form_fields(page: str) -> dict[str, str]:
    """The hidden fields of the IdP's auto-posting form."""
    return {name: html.unescape(value) for name, value in FORM_FIELD.findall(page)}
