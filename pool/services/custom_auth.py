"""Custom authentication (AuthFlow CUSTOM_AUTH): the pool's three challenge triggers run the
sign-in, Cognito's way.

1. DefineAuthChallenge_Authentication gets the history so far (`request.session`, a list of
   {challengeName, challengeResult, challengeMetadata}) and answers `failAuthentication`
   (NotAuthorizedException), `issueTokens` (the first factor is proved: on to
   `sign_in.complete_first_factor`, so status rules and MFA apply as for a password) or the
   next `challengeName`.
2. CreateAuthChallenge_Authentication makes that challenge: `publicChallengeParameters` go to
   the client as ChallengeParameters (with USERNAME), `privateChallengeParameters` (the
   expected answer) and `challengeMetadata` stay in the challenge session, the private ones
   encrypted (pool.crypto): never on the wire, never readable in the database.
3. RespondToAuthChallenge CUSTOM_CHALLENGE with ANSWER: VerifyAuthChallengeResponse_Authentication
   gets the private parameters and the answer and says `answerCorrect`; the result joins the
   history and Define decides again.

Every step spends the session and hands out a fresh one (a replayed Session is refused); a
trigger that fails leaves the session as it was (nothing is written before the triggers have
answered). A wrong answer is recorded as a failed sign-in; MAX_ROUNDS answers end the sign-in
whatever Define says. An unknown user, in a pool that prevents user existence errors, goes
through the same steps with `userNotFound: true` in the events and can never get tokens;
otherwise it is UserNotFoundException.

SRP inside CUSTOM_AUTH: InitiateAuth with CHALLENGE_NAME=SRP_A and SRP_A starts the history
with {SRP_A, true}; Define may then name PASSWORD_VERIFIER, answered by srp_auth's own challenge
(its session keeps this sign-in's state); a verified password adds {PASSWORD_VERIFIER, true}
and Define decides again (a wrong one is NotAuthorizedException, as with USER_SRP_AUTH). Any
other challenge name (SMS_MFA, DEVICE_SRP_AUTH, ...) is refused with
InvalidLambdaResponseException.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from pool import crypto, triggers
from pool.errors import (
    InvalidLambdaResponseException,
    InvalidParameterException,
    NotAuthorizedException,
    UserNotFoundException,
)
from pool.models import AppClient, ChallengeSession, TriggerKind, User, UserPool
from pool.selectors import sign_in as sign_in_checks
from pool.selectors import users as user_selectors
from pool.selectors.clients import ensure_pool_client
from pool.services import challenges, ratelimit, sign_in, srp_auth
from pool.services.results import Authenticated, Challenge, RequestContext

FLOW = "CUSTOM_AUTH"
CHALLENGE = "CUSTOM_CHALLENGE"
SRP_A = "SRP_A"
PASSWORD_VERIFIER = srp_auth.CHALLENGE
DEFINE = "DefineAuthChallenge_Authentication"
CREATE = "CreateAuthChallenge_Authentication"
VERIFY = "VerifyAuthChallengeResponse_Authentication"
REQUIRED_KINDS = (
    TriggerKind.DEFINE_AUTH_CHALLENGE,
    TriggerKind.CREATE_AUTH_CHALLENGE,
    TriggerKind.VERIFY_AUTH_CHALLENGE_RESPONSE,
)
NO_CUSTOM_AUTH = "Custom auth lambda trigger is not configured for the user pool."
INCORRECT = "Incorrect username or password."
# Answers one custom sign-in takes at most, whatever the Define trigger says (a runaway Define
# cannot keep a session alive for ever; the session also expires with the client's
# AuthSessionValidity).
MAX_ROUNDS = 8
AMR = "custom"


def available(pool: UserPool) -> bool:
    """The pool has the three custom-auth triggers (what CUSTOM_AUTH and the hosted UI's
    custom sign-in need)."""
    return all(kind in triggers.configured_kinds(pool) for kind in REQUIRED_KINDS)


def start(
    *,
    pool: UserPool,
    client: AppClient,
    username: str,
    context: RequestContext | None = None,
    flow: str | None = FLOW,
    challenge_name: str | None = None,
    srp_a: str | None = None,
) -> Authenticated | Challenge:
    """InitiateAuth CUSTOM_AUTH: after the client's explicit_auth_flows (`flow`; None for the
    hosted UI, whose managed login does not depend on them), the pool must have the three
    triggers (else Cognito's InvalidParameterException); Define runs with an empty history."""
    ensure_pool_client(pool, client)
    if flow is not None:
        sign_in_checks.check_flow(client, flow)
    if not available(pool):
        raise InvalidParameterException(NO_CUSTOM_AUTH, field="AuthFlow")
    if not isinstance(username, str) or not username:
        raise InvalidParameterException("Missing required parameter USERNAME", field="USERNAME")
    history: list[dict[str, Any]] = []
    if challenge_name == SRP_A:
        if not isinstance(srp_a, str) or not srp_a:
            raise InvalidParameterException("Missing required parameter SRP_A", field="SRP_A")
        history.append({"challengeName": SRP_A, "challengeResult": True, "challengeMetadata": None})
    elif challenge_name is not None:
        raise InvalidParameterException(
            "CHALLENGE_NAME may only be SRP_A in CUSTOM_AUTH.", field="CHALLENGE_NAME"
        )
    ratelimit.check(ratelimit.SIGN_IN, context)
    user = user_selectors.find_for_sign_in(pool, username)
    if user is None and not pool.prevent_user_existence_errors:
        sign_in.record_failure(
            pool, "unknown user", username=username, client=client, context=context
        )
        raise UserNotFoundException("User does not exist.")
    state = _State(
        pool=pool,
        client=client,
        user=user,
        user_name=user.username if user else username,
        history=history,
        context=context,
        srp_a=srp_a if history else None,
    )
    return _define_and_continue(state, previous=None)


@challenges.continues(FLOW)
def after_password_verifier(
    *, session: ChallengeSession, client: AppClient | None, context: RequestContext | None
) -> Authenticated | Challenge:
    """srp_auth verified the password of a PASSWORD_VERIFIER that Define asked for (its
    `session`, already spent, keeps this sign-in's state): Define decides again."""
    row = session
    kept = row.data["custom_auth"]
    state = _State(
        pool=row.pool,
        client=client,
        user=row.user,
        user_name=kept.get("user_name", ""),
        history=[
            *kept.get("history", []),
            {
                "challengeName": PASSWORD_VERIFIER,
                "challengeResult": True,
                "challengeMetadata": None,
            },
        ],
        context=context,
    )
    return _define_and_continue(state, previous=None)


@challenges.opens_session(CHALLENGE)
def open_session(
    *,
    pool: UserPool,
    client: AppClient | None,
    session: str,
    responses: dict[str, str],
    context: RequestContext | None,
) -> ChallengeSession:
    """The live CUSTOM_CHALLENGE session; a USERNAME in the answer must name its user (or, for
    an unknown user, the name the sign-in started with)."""
    row = challenges.load_session(token=session, challenge_name=CHALLENGE, pool=pool, client=client)
    named = responses.get("USERNAME")
    if named:
        if row.user is None:
            same = pool.normalize(str(named)) == pool.normalize(row.data.get("user_name", ""))
        else:
            found = user_selectors.find_for_sign_in(pool, str(named))
            same = found is not None and found.pk == row.user_id
        if not same:
            raise NotAuthorizedException(challenges.INVALID_SESSION)
    return row


@challenges.handles(CHALLENGE)
def answer(
    *,
    session: ChallengeSession,
    responses: dict[str, str],
    client: AppClient | None,
    context: RequestContext | None,
) -> Authenticated | Challenge:
    """RespondToAuthChallenge CUSTOM_CHALLENGE: Verify judges ANSWER against the private
    parameters, the result joins the history, Define decides what comes next."""
    given = responses.get("ANSWER")
    if not isinstance(given, str) or not given:
        raise InvalidParameterException("ANSWER is required for CUSTOM_CHALLENGE.", field="ANSWER")
    pool = session.pool
    state = _State(
        pool=pool,
        client=client,
        user=session.user,
        user_name=session.data.get("user_name", ""),
        history=list(session.data.get("history", [])),
        context=context,
    )
    private = json.loads(crypto.decrypt(session.data["private"]))
    verdict = _fire(
        state,
        TriggerKind.VERIFY_AUTH_CHALLENGE_RESPONSE,
        VERIFY,
        request={"privateChallengeParameters": private, "challengeAnswer": given},
        response={"answerCorrect": False},
    )
    correct = verdict.get("answerCorrect")
    if not isinstance(correct, bool):
        raise InvalidLambdaResponseException(triggers.UNRECOGNIZABLE)
    state.history.append(
        {
            "challengeName": CHALLENGE,
            "challengeResult": correct,
            "challengeMetadata": session.data.get("metadata"),
        }
    )
    if not correct:
        sign_in.record_failure(
            pool,
            "wrong custom challenge answer",
            user=state.user,
            username=state.user_name,
            client=client,
            context=context,
        )
    return _define_and_continue(state, previous=session)


# ------------------------------------------------------------------------------- the loop


class _State:
    """One custom sign-in between two triggers: who, through which client, and the history."""

    def __init__(
        self,
        *,
        pool: UserPool,
        client: AppClient | None,
        user: User | None,
        user_name: str,
        history: list[dict[str, Any]],
        context: RequestContext | None,
        srp_a: str | None = None,
    ):
        self.pool = pool
        self.client = client
        self.user = user
        self.user_name = user_name
        self.history = history
        self.context = context
        self.srp_a = srp_a  # the client's SRP_A, until a PASSWORD_VERIFIER uses it

    def base_request(self) -> dict[str, Any]:
        metadata = self.context.client_metadata if self.context else None
        if self.user is None:
            request: dict[str, Any] = {"userAttributes": {}}
            if metadata:
                request["clientMetadata"] = dict(metadata)
        else:
            request = triggers.request_for(self.user, client_metadata=metadata)
        request["userNotFound"] = self.user is None
        return request


def _fire(
    state: _State, kind: str, source: str, *, request: dict[str, Any], response: dict[str, Any]
) -> dict[str, Any]:
    answer = triggers.fire(
        state.pool,
        kind,
        trigger_source=source,
        user_name=state.user_name,
        client=state.client,
        request={**state.base_request(), **request},
        response=response,
    )
    if answer is None:  # a trigger removed between two steps
        raise InvalidParameterException(NO_CUSTOM_AUTH, field="AuthFlow")
    return answer


def _string_map(value: Any) -> dict[str, str]:
    """Challenge parameters are string to string, as Cognito's ChallengeParameters."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidLambdaResponseException(triggers.UNRECOGNIZABLE)
    return dict(value)


def _fail(state: _State, previous: ChallengeSession | None, reason: str) -> None:
    if previous is not None:
        challenges.expire(previous)
    sign_in.record_failure(
        state.pool,
        reason,
        user=state.user,
        username=state.user_name,
        client=state.client,
        context=state.context,
    )
    raise NotAuthorizedException(INCORRECT)


def _define_and_continue(
    state: _State, *, previous: ChallengeSession | None
) -> Authenticated | Challenge:
    decision = _fire(
        state,
        TriggerKind.DEFINE_AUTH_CHALLENGE,
        DEFINE,
        request={"session": state.history},
        response={"challengeName": None, "issueTokens": False, "failAuthentication": False},
    )
    issue_tokens = decision.get("issueTokens") is True
    fail = decision.get("failAuthentication") is True
    name = decision.get("challengeName")
    if fail:
        _fail(state, previous, "custom authentication failed")
    if issue_tokens:
        if state.user is None:
            _fail(state, previous, "unknown user")
        if previous is not None:
            challenges.consume(previous)
        return sign_in.complete_first_factor(
            user=state.user, client=state.client, context=state.context, method=AMR
        )
    if name == PASSWORD_VERIFIER and state.srp_a:
        if previous is not None:
            challenges.consume(previous)
        return srp_auth.verifier_challenge(
            pool=state.pool,
            username=state.user_name,
            srp_a=state.srp_a,
            client=state.client,
            context=state.context,
            custom_auth={"user_name": state.user_name, "history": state.history},
        )
    if name != CHALLENGE:
        raise InvalidLambdaResponseException(
            f"DefineAuthChallenge answered challengeName {name!r}: Cognate's custom "
            f"authentication runs {CHALLENGE}, and {PASSWORD_VERIFIER} right after SRP_A, only."
        )
    if len(state.history) >= MAX_ROUNDS:
        _fail(state, previous, "too many custom challenge answers")
    created = _fire(
        state,
        TriggerKind.CREATE_AUTH_CHALLENGE,
        CREATE,
        request={"challengeName": CHALLENGE, "session": state.history},
        response={
            "publicChallengeParameters": {},
            "privateChallengeParameters": {},
            "challengeMetadata": None,
        },
    )
    public = _string_map(created.get("publicChallengeParameters"))
    private = _string_map(created.get("privateChallengeParameters"))
    metadata = created.get("challengeMetadata")
    if metadata is not None and not isinstance(metadata, str):
        raise InvalidLambdaResponseException(triggers.UNRECOGNIZABLE)
    data = {
        "user_name": state.user_name,
        "history": state.history,
        "metadata": metadata,
        "private": crypto.encrypt(json.dumps(private)),
    }
    with transaction.atomic():
        if previous is not None:
            challenges.consume(previous)
        token = challenges.start_session(
            user=state.user,
            pool=state.pool,
            client=state.client,
            challenge_name=CHALLENGE,
            data=data,
        )
    return Challenge(
        name=CHALLENGE, session=token, parameters={**public, "USERNAME": state.user_name}
    )
