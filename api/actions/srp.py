"""USER_SRP_AUTH through InitiateAuth: USERNAME, SRP_A (and SECRET_HASH for a client with a
secret) in, the PASSWORD_VERIFIER challenge out, over pool/services/srp_auth.py. The client's
PASSWORD_VERIFIER answer goes through RespondToAuthChallenge like every challenge (api/actions/
auth.py); Cognito sends no Session with it, and the service finds its state in the answer."""

from __future__ import annotations

from api import principals
from api.actions import auth
from api.registry import Call
from pool.models import AppClient
from pool.services import srp_auth


@auth.flow("USER_SRP_AUTH")
def start_srp(call: Call, client: AppClient, params: dict[str, str]) -> auth.Outcome:
    username = auth.required(params, "USERNAME")
    principals.check_secret_hash(client, username=username, given=params.get("SECRET_HASH"))
    return srp_auth.start(
        pool=client.pool,
        client=client,
        username=username,
        srp_a=auth.required(params, "SRP_A"),
        context=call.context,
    )
