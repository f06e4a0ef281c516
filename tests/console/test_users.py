"""A pool's users through the console: search, create, attributes, and every operator action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditEntry
from pool import crypto
from pool.models import Group, TotpDevice, User, UserStatus
from pool.services import events, passwords, pools
from tests import factories
from tests.console.helpers import last_audit

pytestmark = pytest.mark.django_db

STRONG = "New-Password-77"


@pytest.fixture
def shop(db):
    return factories.make_pool(name="shop", mfa_methods=["SOFTWARE_TOKEN_MFA", "EMAIL_OTP"])


def users_url(pool):
    return reverse("console:users", args=[pool.id])


def user_url(user, name="console:user", *extra):
    return reverse(name, args=[user.pool_id, user.sub, *extra])


def listed(response) -> list[str]:
    return [user.username for user in response.context["users"]]


# ------------------------------------------------------------------------------------ search


def test_user_list_shows_the_columns(console, shop):
    factories.make_user(shop, "alice")
    page = console.get(users_url(shop)).content.decode()
    for column in ("Username", "Email", "Status", "Enabled", "MFA", "Created"):
        assert f"<th>{column}</th>" in page
    assert "alice@example.com" in page


def test_search_by_email_prefix(console, shop):
    factories.make_user(shop, "alice", email="alice@shop.example")
    factories.make_user(shop, "alina", email="alina@shop.example")
    factories.make_user(shop, "bob", email="bob@shop.example")
    response = console.get(users_url(shop), {"attribute": "email", "op": "^=", "value": "ali"})
    assert listed(response) == ["alice", "alina"]


def test_search_by_exact_username(console, shop):
    factories.make_user(shop, "alice")
    factories.make_user(shop, "alice2")
    response = console.get(users_url(shop), {"attribute": "username", "op": "=", "value": "alice"})
    assert listed(response) == ["alice"]


def test_search_value_with_quotes_is_escaped(console, shop):
    factories.make_user(shop, "quoted", given_name='Ann "the" Bee')
    response = console.get(
        users_url(shop), {"attribute": "given_name", "op": "^=", "value": 'Ann "the'}
    )
    assert listed(response) == ["quoted"]


def test_status_filter(console, shop):
    factories.make_user(shop, "done")
    factories.make_user(shop, "pending", status=UserStatus.UNCONFIRMED)
    response = console.get(users_url(shop), {"status": "UNCONFIRMED"})
    assert listed(response) == ["pending"]


def test_search_pages_with_next_token(console, shop):
    for number in range(30):
        factories.make_user(shop, f"user{number:02d}", password=None)
    first = console.get(users_url(shop))
    assert len(listed(first)) == 25
    next_query = first.context["next_query"]
    assert next_query
    second = console.get(f"{users_url(shop)}?{next_query}")
    assert listed(second) == [f"user{n}" for n in range(25, 30)]
    assert second.context["next_query"] is None


def test_search_error_is_shown_not_raised(console, shop):
    pools.add_custom_attribute(pool=shop, name="tier")
    response = console.get(users_url(shop), {"attribute": "custom:tier", "value": "x" * 600})
    assert response.status_code == 400
    assert "must be at most 512 characters" in response.content.decode()


def test_search_ignores_case_where_the_pool_does(console, shop):
    factories.make_user(shop, "Alice", email="Alice@Example.com")
    factories.make_user(shop, "bob", email="bob@example.com")
    response = console.get(users_url(shop), {"attribute": "email", "op": "^=", "value": "alice"})
    assert listed(response) == ["Alice"]


def test_search_is_exact_in_a_case_sensitive_pool(console):
    pool = factories.make_pool(name="exact", case_sensitive=True)
    factories.make_user(pool, "Alice", email="Alice@Example.com")
    response = console.get(users_url(pool), {"attribute": "email", "op": "^=", "value": "alice"})
    assert response.status_code == 200 and listed(response) == []


def test_enabled_filter(console, shop):
    factories.make_user(shop, "active")
    factories.make_user(shop, "blocked", enabled=False)
    assert listed(console.get(users_url(shop), {"enabled": "false"})) == ["blocked"]
    assert listed(console.get(users_url(shop), {"enabled": "true"})) == ["active"]


def test_search_by_custom_attribute(console, shop):
    pools.add_custom_attribute(pool=shop, name="tier")
    factories.make_user(shop, "gold", attributes={"custom:tier": "Gold"})
    factories.make_user(shop, "golden", attributes={"custom:tier": "golden"})
    factories.make_user(shop, "plain")
    page = console.get(users_url(shop))
    assert '<option value="custom:tier">' in page.content.decode()
    equal = {"attribute": "custom:tier", "op": "=", "value": "gold"}
    assert listed(console.get(users_url(shop), equal)) == ["gold"]
    prefix = {"attribute": "custom:tier", "op": "^=", "value": "GOL"}
    assert sorted(listed(console.get(users_url(shop), prefix))) == ["gold", "golden"]


def test_next_page_keeps_the_filters(console, shop):
    for number in range(30):
        factories.make_user(shop, f"off{number:02d}", password=None, enabled=False)
    factories.make_user(shop, "on")
    first = console.get(users_url(shop), {"enabled": "false"})
    second = console.get(f"{users_url(shop)}?{first.context['next_query']}")
    assert listed(second) == [f"off{n}" for n in range(25, 30)]


def test_unknown_search_attribute_is_a_form_error(console, shop):
    response = console.get(users_url(shop), {"attribute": "custom:nope", "value": "x"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_forged_pagination_token_is_an_error_message(console, shop):
    response = console.get(users_url(shop), {"token": "forged"})
    assert response.status_code == 400
    assert "Invalid pagination token." in response.content.decode()


def test_unknown_user_is_404(console, shop):
    assert console.get(reverse("console:user", args=[shop.id, "not-a-uuid"])).status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert console.get(reverse("console:user", args=[shop.id, missing])).status_code == 404


# ------------------------------------------------------------------------------------ create


def create(console, pool, **data):
    data.setdefault("invitation", "EMAIL")
    return console.post(reverse("console:user_create", args=[pool.id]), data)


def test_create_user_sends_the_invitation(console, shop, mailoutbox):
    response = create(console, shop, username="newbie", email="newbie@example.com")
    user = User.objects.get(pool=shop, username="newbie")
    assert response["Location"] == user_url(user)
    assert user.status == UserStatus.FORCE_CHANGE_PASSWORD
    assert mailoutbox[-1].to == ["newbie@example.com"]
    assert "newbie" in mailoutbox[-1].body


def test_create_user_with_generated_password_shows_it_once(console, shop, mailoutbox):
    response = create(console, shop, username="quiet", email="q@example.com", invitation="SUPPRESS")
    assert response.status_code == 201
    password = response.context["password"]
    user = User.objects.get(pool=shop, username="quiet")
    assert passwords.verify(user, password)
    assert password in response.content.decode()
    assert mailoutbox == []
    assert password not in str(last_audit("user.create").detail)


def test_create_user_with_given_temporary_password(console, shop):
    create(
        console,
        shop,
        username="given",
        email="g@example.com",
        temporary_password=STRONG,
        invitation="SUPPRESS",
    )
    assert passwords.verify(User.objects.get(username="given"), STRONG)


def test_create_user_is_audited(console, shop):
    create(console, shop, username="audited", email="a@example.com")
    entry = last_audit("user.create")
    assert (entry.target_pool, entry.target_user) == (shop.id, "audited")


def test_create_user_shows_bad_email_next_to_the_field(console, shop):
    response = create(console, shop, username="bad", email="not-an-email", invitation="SUPPRESS")
    assert response.status_code == 400
    assert response.context["form"].errors["email"]
    assert not User.objects.filter(username="bad").exists()


def test_create_user_refuses_an_existing_username(console, shop):
    factories.make_user(shop, "taken")
    response = create(console, shop, username="taken", email="t2@example.com")
    assert response.context["form"].errors["username"] == [
        "A user with this username already exists in the pool."
    ]


def test_create_user_refuses_a_weak_temporary_password(console, shop):
    response = create(
        console, shop, username="weak", email="w@example.com", temporary_password="short"
    )
    assert response.context["form"].errors["temporary_password"]


def test_create_user_needs_required_attributes(console, shop):
    response = create(console, shop, username="noemail", invitation="SUPPRESS")
    assert response.status_code == 400
    assert "email" in response.context["form"].errors


def test_create_user_reads_other_attributes(console, shop):
    create(
        console,
        shop,
        username="ada",
        email="ada@example.com",
        other_attributes="given_name=Ada\nfamily_name=Lovelace",
        invitation="SUPPRESS",
    )
    user = User.objects.get(username="ada")
    assert (user.given_name, user.family_name) == ("Ada", "Lovelace")


def test_create_user_refuses_a_malformed_attribute_line(console, shop):
    response = create(console, shop, username="x", email="x@example.com", other_attributes="oops")
    assert response.context["form"].errors["other_attributes"] == ["Line 1: write name=value."]


# ------------------------------------------------------------------------------------ detail


def test_user_detail_shows_groups_devices_and_events(console, shop):
    user = factories.make_user(shop, "dora")
    group = Group.objects.create(pool=shop, name="staff")
    user.groups.add(group)
    seed = crypto.encrypt("A" * 32)
    TotpDevice.objects.create(user=user, name="Phone", secret=seed, confirmed=True)

    events.record(pool=shop, event_type="SignIn", success=False, user=user, reason="bad password")
    page = console.get(user_url(user)).content.decode()
    assert "staff" in page and "Phone" in page and "bad password" in page


def test_edit_attributes(console, shop):
    user = factories.make_user(shop, "edit")
    data = {"email": user.email, "email_verified": "on", "given_name": "Edith"}
    response = console.post(user_url(user), data)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.given_name == "Edith"
    assert last_audit("user.update_attributes").detail == {"attributes": ["given_name"]}


def test_emptied_attribute_is_removed(console, shop):
    user = factories.make_user(shop, "empty", given_name="Gone")
    console.post(user_url(user), {"email": user.email, "email_verified": "on", "given_name": ""})
    user.refresh_from_db()
    assert user.given_name == ""


def test_set_verified_flag(console, shop):
    user = factories.make_user(shop, "flag", status=UserStatus.UNCONFIRMED)
    assert not user.email_verified
    console.post(user_url(user), {"email": user.email, "email_verified": "on"})
    user.refresh_from_db()
    assert user.email_verified


def test_email_change_with_verified_ticked_applies_at_once(console, shop, mailoutbox):
    user = factories.make_user(shop, "mover")
    assert user.email_verified
    data = {"email": "moved@example.com", "email_verified": "on"}
    response = console.post(user_url(user), data)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "moved@example.com" and user.email_verified
    assert mailoutbox == []  # nothing held pending, so no code to the new address
    assert "Verification code sent" not in console.get(user_url(user)).content.decode()


def test_phone_change_with_verified_ticked_applies_at_once(console, shop):
    shop.auto_verified_attributes = ["email", "phone_number"]
    shop.save()
    user = factories.make_user(shop, "caller", phone_number="+15555550100")
    User.objects.filter(pk=user.pk).update(phone_number_verified=True)
    data = {
        "email": user.email,
        "email_verified": "on",
        "phone_number": "+15555550199",
        "phone_number_verified": "on",
    }
    console.post(user_url(user), data)
    user.refresh_from_db()
    assert user.phone_number == "+15555550199" and user.phone_number_verified


def test_email_change_without_verified_ticked_waits_for_the_code(console, shop, mailoutbox):
    user = factories.make_user(shop, "pending")
    console.post(user_url(user), {"email": "next@example.com"})
    user.refresh_from_db()
    assert user.email == "pending@example.com" and user.email_verified
    assert mailoutbox[-1].to == ["next@example.com"]


def test_attribute_schema_error_is_shown_next_to_the_field(console, shop):
    from pool.services import pools

    pools.add_custom_attribute(pool=shop, name="tier", data_type="Number", max_value=5)
    user = factories.make_user(shop, "tiered")
    data = {"email": user.email, "email_verified": "on", "custom:tier": "9"}
    response = console.post(user_url(user), data)
    assert response.status_code == 400
    assert response.context["attributes_form"].errors["custom:tier"] == [
        "Attributes did not conform to the schema: custom:tier: Number must be at most 5"
    ]
    assert not AuditEntry.objects.exists()


def test_bad_phone_number_is_shown_next_to_the_field(console, shop):
    user = factories.make_user(shop, "phone")
    data = {"email": user.email, "email_verified": "on", "phone_number": "0123"}
    response = console.post(user_url(user), data)
    assert response.context["attributes_form"].errors["phone_number"]


# ------------------------------------------------------------------------------------ actions


def act(console, user, action):
    return console.post(user_url(user, "console:user_action", action))


def test_confirm_user(console, shop):
    user = factories.make_user(shop, "unconf", status=UserStatus.UNCONFIRMED)
    response = act(console, user, "confirm")
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.status == UserStatus.CONFIRMED
    assert last_audit("user.confirm").target_user == "unconf"


def test_confirming_a_confirmed_user_shows_the_error(console, shop):
    user = factories.make_user(shop, "already")
    response = console.post(user_url(user, "console:user_action", "confirm"), follow=True)
    assert "User cannot be confirmed. Current status is CONFIRMED" in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_disable_and_enable_user(console, shop):
    user = factories.make_user(shop, "toggle")
    act(console, user, "disable")
    user.refresh_from_db()
    assert not user.enabled
    assert user.tokens_valid_after is not None
    act(console, user, "enable")
    user.refresh_from_db()
    assert user.enabled
    assert [e.action for e in AuditEntry.objects.order_by("id")] == ["user.disable", "user.enable"]


def test_reset_password_sends_a_code(console, shop, mailoutbox):
    user = factories.make_user(shop, "reset")
    response = console.post(user_url(user, "console:user_action", "reset-password"), follow=True)
    user.refresh_from_db()
    assert user.status == UserStatus.RESET_REQUIRED
    assert mailoutbox[-1].to == [user.email]
    assert "a code was sent to" in response.content.decode()


def test_sign_out_everywhere(console, shop):
    user = factories.make_user(shop, "everywhere")
    act(console, user, "sign-out")
    user.refresh_from_db()
    assert user.tokens_valid_after is not None
    assert last_audit("user.global_sign_out").target_user == "everywhere"


def test_remove_totp_device(console, shop):
    user = factories.make_user(shop, "totp", software_token_mfa_enabled=True)
    TotpDevice.objects.create(user=user, secret=crypto.encrypt("A" * 32), confirmed=True)
    act(console, user, "remove-totp")
    user.refresh_from_db()
    assert not user.totp_devices.exists()
    assert not user.software_token_mfa_enabled


def test_unknown_action_is_404(console, shop):
    user = factories.make_user(shop, "nothing")
    assert act(console, user, "explode").status_code == 404


def test_actions_refuse_get(console, shop):
    user = factories.make_user(shop, "getter", status=UserStatus.UNCONFIRMED)
    assert console.get(user_url(user, "console:user_action", "confirm")).status_code == 405
    user.refresh_from_db()
    assert user.status == UserStatus.UNCONFIRMED


def test_set_permanent_password(console, shop):
    user = factories.make_user(shop, "perm", status=UserStatus.FORCE_CHANGE_PASSWORD)
    response = console.post(
        user_url(user, "console:user_set_password"), {"password": STRONG, "permanent": "on"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.status == UserStatus.CONFIRMED
    assert passwords.verify(user, STRONG)
    assert last_audit("user.set_password").detail == {"permanent": True}


def test_set_temporary_password(console, shop):
    user = factories.make_user(shop, "temp")
    console.post(user_url(user, "console:user_set_password"), {"password": STRONG})
    user.refresh_from_db()
    assert user.status == UserStatus.FORCE_CHANGE_PASSWORD
    assert user.temporary_password_expires_at is not None


def test_set_password_shows_policy_error_next_to_the_field(console, shop):
    user = factories.make_user(shop, "weakling")
    response = console.post(user_url(user, "console:user_set_password"), {"password": "abc"})
    assert response.status_code == 400
    assert response.context["password_form"].errors["password"]
    assert not AuditEntry.objects.exists()


def test_require_email_mfa(console, shop):
    user = factories.make_user(shop, "mfa")
    response = console.post(
        user_url(user, "console:user_mfa"), {"email": "on", "preferred": "EMAIL_OTP"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.email_mfa_enabled, user.preferred_mfa) == (True, "EMAIL_OTP")


def test_disable_mfa(console, shop):
    user = factories.make_user(shop, "nomfa", email_mfa_enabled=True, preferred_mfa="EMAIL_OTP")
    console.post(user_url(user, "console:user_mfa"), {"preferred": ""})
    user.refresh_from_db()
    assert user.mfa_enabled_methods == []
    assert last_audit("user.set_mfa").detail["email"] is False


def test_totp_mfa_without_a_device_is_an_error(console, shop):
    user = factories.make_user(shop, "nodevice")
    response = console.post(user_url(user, "console:user_mfa"), {"totp": "on"})
    assert response.status_code == 400
    assert "User has not verified software token mfa" in response.content.decode()


def test_add_and_remove_group(console, shop):
    user = factories.make_user(shop, "member")
    group = Group.objects.create(pool=shop, name="team")
    console.post(user_url(user, "console:user_add_group"), {"group": group.pk})
    assert list(user.groups.all()) == [group]
    console.post(user_url(user, "console:user_remove_group", group.pk))
    assert not user.groups.exists()
    actions = [e.action for e in AuditEntry.objects.order_by("id")]
    assert actions == ["user.add_to_group", "user.remove_from_group"]


def test_group_of_another_pool_cannot_be_added(console, shop):
    user = factories.make_user(shop, "strict")
    other = Group.objects.create(pool=factories.make_pool(), name="foreign")
    response = console.post(user_url(user, "console:user_add_group"), {"group": other.pk})
    assert response.status_code == 400
    assert not user.groups.exists()


def test_delete_user_after_confirmation(console, shop):
    user = factories.make_user(shop, "doomed")
    assert console.get(user_url(user, "console:user_delete")).status_code == 200
    response = console.post(user_url(user, "console:user_delete"), {"confirm": "doomed"})
    assert response["Location"] == users_url(shop)
    assert not User.objects.filter(pk=user.pk).exists()
    entry = last_audit("user.delete")
    assert (entry.target_user, entry.detail["sub"]) == ("doomed", str(user.sub))


def test_read_only_operator_cannot_disable(readonly_console, shop):
    user = factories.make_user(shop, "safe")
    assert act(readonly_console, user, "disable").status_code == 403
    user.refresh_from_db()
    assert user.enabled


def test_user_page_element_ids_are_unique(console, shop):
    import re
    from collections import Counter

    user = factories.make_user(shop, "ids")
    Group.objects.create(pool=shop, name="g")
    page = console.get(user_url(user)).content.decode()
    counts = Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [name for name, count in counts.items() if count > 1] == []
