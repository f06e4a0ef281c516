"""A pool's users: search, create, detail (attributes, status, MFA, groups, events) and the
operator's actions on one user. Each action is one service call and one audit entry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from console import audit, errors
from console.access import context, operator_view
from console.forms.identity_providers import LinkForm
from console.forms.users import (
    AttributesForm,
    CreateUserForm,
    GroupChoiceForm,
    MfaForm,
    SearchForm,
    SetPasswordForm,
)
from console.views.common import confirm_delete, get_pool, get_pool_user
from pool.errors import CognitoError
from pool.models import AuthEvent, FederatedIdentity, Group, User, UserStatus
from pool.selectors import identity_providers as provider_selectors
from pool.selectors import users as user_selectors
from pool.services import admin, federation, mfa, passwords
from pool.services import attributes as attribute_services
from pool.services.results import RequestContext

PAGE_SIZE = 25
RECENT_EVENTS = 20
# Selector parameters named differently in the search form.
SEARCH_FIELDS = {"operator": "op", "pagination_token": None}


@operator_view
def user_list(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    form = SearchForm(request.GET, pool=pool)
    page = None
    if form.is_valid():
        try:
            page = user_selectors.search(
                pool,
                filter=form.user_filter(),
                limit=PAGE_SIZE,
                pagination_token=request.GET.get("token") or None,
            )
        except CognitoError as exc:
            errors.attach(form, exc, aliases=SEARCH_FIELDS)
    next_query = None
    if page is not None and page.next_token:
        query = request.GET.copy()
        query["token"] = page.next_token
        next_query = query.urlencode()
    context_data = {
        "pool": pool,
        "tab": "users",
        "section": "pools",
        "form": form,
        "users": page.users if page else (),
        "next_query": next_query,
        "paged": bool(request.GET.get("token")),
        "searched": any(request.GET.get(name) for name in ("value", "status", "enabled")),
    }
    return render(request, "console/users/list.html", context_data, status=200 if page else 400)


@operator_view
def user_create(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    form = CreateUserForm(request.POST or None, pool=pool)
    if request.method == "POST" and form.is_valid():
        options = form.invitation_options()
        try:
            with audit.recording(
                request,
                "user.create",
                pool=pool,
                detail={
                    "invitation": form.cleaned_data["invitation"],
                    "password": "given" if form.cleaned_data["temporary_password"] else "generated",
                },
            ) as entry:
                user, password = admin.admin_create_user(
                    pool=pool,
                    username=form.cleaned_data["username"],
                    attributes=form.attributes(),
                    temporary_password=form.cleaned_data["temporary_password"] or None,
                    context=context(request),
                    **options,
                )
                entry.user = user
        except CognitoError as exc:
            errors.attach(form, exc, aliases={"password": "temporary_password"})
        else:
            messages.success(request, f"User {user.username} created.")
            if options.get("message_action") == "SUPPRESS":
                # Rendered, not redirected, so the password is in no URL, session or log.
                page = {"pool": pool, "tab": "users", "user_obj": user, "password": password}
                return render(request, "console/users/created.html", page, status=201)
            return redirect("console:user", pool_id=pool.id, sub=user.sub)
    page = {"pool": pool, "tab": "users", "section": "pools", "form": form}
    return render(request, "console/users/create.html", page, status=400 if form.errors else 200)


def _detail(request: HttpRequest, user: User, status: int = 200, **forms) -> HttpResponse:
    """The user page, with any bound form that failed shown with its errors."""
    pool = user.pool
    page = {
        "pool": pool,
        "tab": "users",
        "section": "pools",
        "user_obj": user,
        "attributes_form": forms.get("attributes_form") or AttributesForm(user=user),
        "password_form": forms.get("password_form") or SetPasswordForm(),
        "mfa_form": forms.get("mfa_form") or MfaForm(user=user),
        "group_form": forms.get("group_form") or GroupChoiceForm(user=user),
        "groups": user.groups.order_by("precedence", "name"),
        "devices": user.totp_devices.all(),
        "events": AuthEvent.objects.filter(user=user).order_by("-created_at")[:RECENT_EVENTS],
        "mfa_allowed": pool.mfa_configuration != pool.Mfa.OFF,
        "linked_identities": FederatedIdentity.objects.filter(user=user).order_by(
            "created_at", "pk"
        ),
        "identities_claim": provider_selectors.identities(user),
        "link_form": forms.get("link_form") or LinkForm(pool=pool),
    }
    return render(request, "console/users/detail.html", page, status=status)


def _to_user(user: User, fragment: str = "") -> HttpResponse:
    url = reverse("console:user", args=[user.pool_id, user.sub])
    return redirect(f"{url}#{fragment}" if fragment else url)


@operator_view
def user_detail(request: HttpRequest, pool_id: str, sub: str) -> HttpResponse:
    """Shows the user; a POST saves the attributes form."""
    user = get_pool_user(get_pool(pool_id), sub)
    if request.method != "POST":
        return _detail(request, user)
    form = AttributesForm(request.POST, user=user)
    if form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, "Nothing changed.")
            return _to_user(user)
        try:
            with audit.recording(
                request,
                "user.update_attributes",
                pool=user.pool,
                user=user,
                detail={"attributes": sorted(changes)},
            ):
                deliveries = attribute_services.update_attributes(
                    user=user, attributes=changes, admin=True, context=context(request)
                )
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            sent = ", ".join(f"{d.attribute} ({d.destination})" for d in deliveries)
            messages.success(
                request,
                "Attributes saved." + (f" Verification code sent to {sent}." if sent else ""),
            )
            return _to_user(user, "attributes")
    return _detail(request, user, status=400, attributes_form=form)


@dataclass(frozen=True)
class Action:
    """An action without input: its audit name, the one service call, what to tell the operator."""

    audit: str
    call: Callable[[User, RequestContext], object]
    done: Callable[[User, object], str]


def _reset_message(user: User, delivery) -> str:
    if delivery is None:
        return (
            "Password reset: the user has no verified email or phone, so set a password for them."
        )
    return f"Password reset: a code was sent to {delivery.destination}."


ACTIONS: dict[str, Action] = {
    "confirm": Action(
        "user.confirm",
        lambda user, ctx: admin.admin_confirm_sign_up(user=user, context=ctx),
        lambda user, _: f"{user.username} is confirmed.",
    ),
    "enable": Action(
        "user.enable",
        lambda user, ctx: admin.set_enabled(user=user, enabled=True, context=ctx),
        lambda user, _: f"{user.username} is enabled.",
    ),
    "disable": Action(
        "user.disable",
        lambda user, ctx: admin.set_enabled(user=user, enabled=False, context=ctx),
        lambda user, _: f"{user.username} is disabled and signed out everywhere.",
    ),
    "reset-password": Action(
        "user.reset_password",
        lambda user, ctx: passwords.admin_reset_password(user=user, context=ctx),
        _reset_message,
    ),
    "remove-totp": Action(
        "user.remove_totp",
        lambda user, ctx: mfa.remove_software_token(user=user),
        lambda user, _: "Authenticator removed; TOTP MFA is off for this user.",
    ),
    "sign-out": Action(
        "user.global_sign_out",
        lambda user, ctx: admin.global_sign_out(user=user, context=ctx),
        lambda user, revoked: f"Signed out everywhere ({revoked} session(s) revoked).",
    ),
}


@operator_view
@require_POST
def user_action(request: HttpRequest, pool_id: str, sub: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("No such action.")
    user = get_pool_user(get_pool(pool_id), sub)
    spec = ACTIONS[action]
    try:
        with audit.recording(request, spec.audit, pool=user.pool, user=user):
            result = spec.call(user, context(request))
    except CognitoError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, spec.done(user, result))
    return _to_user(user)


def _submit(
    request: HttpRequest,
    user: User,
    form: forms.Form,
    *,
    slot: str,
    audit_action: str,
    detail: Callable[[dict], dict],
    call: Callable[[dict], object],
    done: Callable[[dict], str],
    fragment: str = "",
) -> HttpResponse:
    """One form of the user page: on valid input, `call` (one service call, given the cleaned
    data) runs under its audit entry and the operator goes back to the page; otherwise the page
    again (400) with this form, in its `slot`, showing the errors."""
    if form.is_valid():
        data = form.cleaned_data
        try:
            with audit.recording(
                request, audit_action, pool=user.pool, user=user, detail=detail(data)
            ):
                call(data)
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, done(data))
            return _to_user(user, fragment)
    return _detail(request, user, status=400, **{slot: form})


def _password_set(data: dict) -> str:
    if data["permanent"]:
        return "Password set, permanent."
    return "Password set, temporary (to be changed at the next sign-in)."


@operator_view
@require_POST
def user_set_password(request: HttpRequest, pool_id: str, sub: str) -> HttpResponse:
    user = get_pool_user(get_pool(pool_id), sub)
    return _submit(
        request,
        user,
        SetPasswordForm(request.POST),
        slot="password_form",
        audit_action="user.set_password",
        detail=lambda data: {"permanent": data["permanent"]},
        call=lambda data: passwords.admin_set_password(
            user=user, password=data["password"], permanent=data["permanent"]
        ),
        done=_password_set,
    )


@operator_view
@require_POST
def user_mfa(request: HttpRequest, pool_id: str, sub: str) -> HttpResponse:
    user = get_pool_user(get_pool(pool_id), sub)
    return _submit(
        request,
        user,
        MfaForm(request.POST, user=user),
        slot="mfa_form",
        audit_action="user.set_mfa",
        detail=lambda data: data,
        call=lambda data: mfa.set_preference(
            user=user,
            totp=data["totp"],
            sms=data["sms"],
            email=data["email"],
            preferred=data["preferred"],
        ),
        done=lambda data: "MFA settings saved.",
        fragment="mfa",
    )


@operator_view
@require_POST
def user_add_group(request: HttpRequest, pool_id: str, sub: str) -> HttpResponse:
    user = get_pool_user(get_pool(pool_id), sub)
    return _submit(
        request,
        user,
        GroupChoiceForm(request.POST, user=user),
        slot="group_form",
        audit_action="user.add_to_group",
        detail=lambda data: {"group": data["group"].name},
        call=lambda data: admin.add_user_to_group(user=user, group=data["group"]),
        done=lambda data: f"Added to group {data['group'].name}.",
        fragment="groups",
    )


@operator_view
@require_POST
def user_remove_group(request: HttpRequest, pool_id: str, sub: str, group_id: int) -> HttpResponse:
    user = get_pool_user(get_pool(pool_id), sub)
    group = get_object_or_404(Group, pool=user.pool, pk=group_id)
    try:
        with audit.recording(
            request,
            "user.remove_from_group",
            pool=user.pool,
            user=user,
            detail={"group": group.name},
        ):
            admin.remove_user_from_group(user=user, group=group)
    except CognitoError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Removed from group {group.name}.")
    return _to_user(user, "groups")


@operator_view
def user_delete(request: HttpRequest, pool_id: str, sub: str) -> HttpResponse:
    pool = get_pool(pool_id)
    user = get_pool_user(pool, sub)
    return confirm_delete(
        request,
        noun="user",
        name=user.username,
        consequence="The user, their devices, tokens and group memberships are deleted.",
        page={"pool": pool, "tab": "users", "section": "pools"},
        cancel_url=reverse("console:user", args=[pool.id, user.sub]),
        audit_action="user.delete",
        audit_targets={"pool": pool, "user": user.username, "detail": {"sub": str(user.sub)}},
        delete=lambda: admin.delete_user(user=user, context=context(request)),
        done_url=reverse("console:users", args=[pool.id]),
    )


def _link_destination(user: User) -> tuple[str, str]:
    """The user as AdminLinkProviderForUser's DestinationUser: `Cognito` and the username for
    a native user, the provider and subject of a federated user's own identity."""
    if user.status == UserStatus.EXTERNAL_PROVIDER:
        own = FederatedIdentity.objects.filter(user=user, primary=True).first()
        if own is not None:
            return own.provider_name, own.subject
    return federation.COGNITO, user.username


@operator_view
@require_POST
def user_link_identity(request: HttpRequest, pool_id: str, sub: str) -> HttpResponse:
    """AdminLinkProviderForUser: the provider identity signs in as this user from now on."""
    user = get_pool_user(get_pool(pool_id), sub)
    destination_provider, destination_value = _link_destination(user)
    form = LinkForm(request.POST, pool=user.pool)
    if form.is_valid():
        data = form.cleaned_data
        try:
            with audit.recording(
                request,
                "user.link_provider",
                pool=user.pool,
                user=user,
                detail={"provider_name": data["provider_name"], "subject": data["subject"]},
            ):
                federation.link(
                    pool=user.pool,
                    destination_provider=destination_provider,
                    destination_value=destination_value,
                    source_provider=data["provider_name"],
                    source_attribute=federation.COGNITO_SUBJECT,
                    source_value=data["subject"],
                )
        except CognitoError as exc:
            errors.attach(form, exc, aliases={"SourceUser": "subject", "DestinationUser": None})
        else:
            messages.success(request, f"{data['provider_name']} identity {data['subject']} linked.")
            return _to_user(user, "identities")
    return _detail(request, user, status=400, link_form=form)


@operator_view
@require_POST
def user_unlink_identity(
    request: HttpRequest, pool_id: str, sub: str, identity_id: int
) -> HttpResponse:
    """AdminDisableProviderForUser on one of the user's identities: a linked one is unlinked
    (its next sign-in makes a new federated user); the federated user's own one disables the
    user."""
    user = get_pool_user(get_pool(pool_id), sub)
    identity = get_object_or_404(FederatedIdentity, user=user, pk=identity_id)
    try:
        with audit.recording(
            request,
            "user.disable_provider",
            pool=user.pool,
            user=user,
            detail={
                "provider_name": identity.provider_name,
                "subject": identity.subject,
                "primary": identity.primary,
            },
        ):
            federation.disable_provider_for_user(
                pool=user.pool,
                provider_name=identity.provider_name,
                attribute_name=federation.COGNITO_SUBJECT,
                value=identity.subject,
            )
    except CognitoError as exc:
        messages.error(request, exc.message)
    else:
        if identity.primary:
            messages.success(
                request,
                f"{user.username} is disabled: its {identity.provider_name} identity "
                "no longer signs in.",
            )
        else:
            messages.success(request, f"{identity.provider_name} identity unlinked.")
    return _to_user(user, "identities")
