"""`/hello` answers a constant; `/sign2` signs two RS256 JWTs (an ID token's and an access
token's claims, Cognito-sized) with PyJWT + cryptography and a key loaded once per process: the
signing floor of a refresh grant. `/sign1` signs one (a client_credentials access token's
claims): the signing floor of that grant."""

import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from django.http import HttpResponse, JsonResponse
from django.urls import path

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ISSUER = "http://127.0.0.1/local_Bench0000"


def hello(request):
    return HttpResponse(b"hello", content_type="text/plain")


def sign2(request):
    now = int(time.time())
    sub = str(uuid.uuid4())
    common = {"sub": sub, "iss": ISSUER, "iat": now, "exp": now + 3600, "auth_time": now}
    access = {
        **common,
        "client_id": "bench-app",
        "token_use": "access",
        "scope": "openid email profile",
        "jti": str(uuid.uuid4()),
        "origin_jti": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "username": "bench0",
        "version": 2,
    }
    id_claims = {
        **common,
        "aud": "bench-app",
        "token_use": "id",
        "cognito:username": "bench0",
        "email": "bench0@example.com",
        "email_verified": True,
        "origin_jti": access["origin_jti"],
        "event_id": access["event_id"],
        "jti": str(uuid.uuid4()),
    }
    headers = {"kid": "bench"}
    return JsonResponse(
        {
            "access_token": jwt.encode(access, KEY, algorithm="RS256", headers=headers),
            "id_token": jwt.encode(id_claims, KEY, algorithm="RS256", headers=headers),
            "refresh_token": "r" * 43,
            "token_type": "Bearer",
            "expires_in": 3600,
        }
    )


def sign1(request):
    now = int(time.time())
    access = {
        "sub": "bench-service",
        "token_use": "access",
        "scope": "bench-api/read",
        "auth_time": now,
        "iss": ISSUER,
        "exp": now + 3600,
        "iat": now,
        "version": 2,
        "jti": str(uuid.uuid4()),
        "client_id": "bench-service",
    }
    token = jwt.encode(access, KEY, algorithm="RS256", headers={"kid": "bench"})
    return JsonResponse({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})


urlpatterns = [path("hello", hello), path("sign1", sign1), path("sign2", sign2)]
