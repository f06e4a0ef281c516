"""Pools through the console: list, create with every setting, edit what may change (fixed
settings read-only), delete with confirmation, custom attributes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditEntry
from pool.models import CustomAttribute, SigningKey, UserPool
from tests import factories
from tests.console.helpers import last_audit, pool_form_data

pytestmark = pytest.mark.django_db


def test_pool_list_shows_every_pool(console):
    factories.make_pool(name="first-pool")
    factories.make_pool(name="second-pool")
    page = console.get(reverse("console:index")).content.decode()
    assert "first-pool" in page and "second-pool" in page


def test_create_pool_with_settings(console):
    data = pool_form_data(
        name="Shop",
        alias_attributes=["email", "preferred_username"],
        password_min_length=12,
        mfa_configuration="ON",
        mfa_methods=["SOFTWARE_TOKEN_MFA", "EMAIL_OTP"],
        account_recovery="verified_email",
        account_recovery_second="",
    )
    response = console.post(reverse("console:pool_create"), data)
    pool = UserPool.objects.get(name="Shop")
    assert response.status_code == 302
    assert response["Location"] == reverse("console:pool", args=[pool.id])
    assert pool.alias_attributes == ["email", "preferred_username"]
    assert (pool.password_min_length, pool.mfa_configuration) == (12, "ON")
    assert pool.mfa_methods == ["SOFTWARE_TOKEN_MFA", "EMAIL_OTP"]
    assert pool.account_recovery == ["verified_email"]


def test_create_pool_makes_its_first_signing_key(console):
    console.post(reverse("console:pool_create"), pool_form_data(name="Keyed"))
    assert SigningKey.objects.filter(pool__name="Keyed", status="ACTIVE").count() == 1


def test_create_pool_is_audited(console):
    console.post(reverse("console:pool_create"), pool_form_data(name="Audited"))
    entry = last_audit("pool.create")
    assert entry.target_pool == UserPool.objects.get(name="Audited").id
    assert entry.detail == {"name": "Audited"}


def test_create_pool_shows_service_errors_next_to_the_field(console):
    data = pool_form_data(
        name="Clash", username_attributes=["email"], alias_attributes=["phone_number"]
    )
    response = console.post(reverse("console:pool_create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["alias_attributes"] == [
        "username_attributes and alias_attributes are exclusive: choose one."
    ]
    assert not UserPool.objects.exists()
    assert not AuditEntry.objects.exists()


def test_create_pool_shows_template_rule_errors(console):
    data = pool_form_data(name="Msgs", verification_sms_message="no code here")
    response = console.post(reverse("console:pool_create"), data)
    assert (
        "verification_sms_message must contain {####}."
        in (response.context["form"].errors["verification_sms_message"])
    )


def test_edit_form_shows_fixed_settings_read_only(console):
    pool = factories.make_pool(alias_attributes=["email"])
    response = console.get(reverse("console:pool_edit", args=[pool.id]))
    assert "Change sign-in and schema" in response.content.decode()
    form = response.context["form"]
    assert form.fields["alias_attributes"].disabled
    assert form.fields["case_sensitive"].disabled
    assert not form.fields["password_min_length"].disabled


def test_edit_pool_changes_what_may_change(console):
    pool = factories.make_pool(name="Before")
    data = pool_form_data(name="After", password_min_length=10, allow_self_sign_up=None)
    response = console.post(reverse("console:pool_edit", args=[pool.id]), data)
    assert response.status_code == 302
    pool.refresh_from_db()
    assert (pool.name, pool.password_min_length, pool.allow_self_sign_up) == ("After", 10, False)
    assert set(last_audit("pool.update").detail["changed"]) == {
        "name",
        "password_min_length",
        "allow_self_sign_up",
    }


def test_edit_pool_turns_self_deletion_off(console):
    pool = factories.make_pool()
    assert pool.allow_self_deletion
    data = pool_form_data(name=pool.name, allow_self_deletion=None)
    response = console.post(reverse("console:pool_edit", args=[pool.id]), data)
    assert response.status_code == 302
    pool.refresh_from_db()
    assert not pool.allow_self_deletion


def test_edit_pool_ignores_posted_values_of_fixed_settings(console):
    pool = factories.make_pool(alias_attributes=["email"], case_sensitive=False)
    data = pool_form_data(
        name=pool.name, alias_attributes=["phone_number"], case_sensitive="on", region="eu-west-1"
    )
    console.post(reverse("console:pool_edit", args=[pool.id]), data)
    pool.refresh_from_db()
    assert (pool.alias_attributes, pool.case_sensitive, pool.region) == (
        ["email"],
        False,
        "local",
    )


def test_edit_pool_shows_validation_errors(console):
    pool = factories.make_pool()
    data = pool_form_data(name=pool.name, mfa_configuration="ON", mfa_methods=[])
    response = console.post(reverse("console:pool_edit", args=[pool.id]), data)
    assert response.status_code == 200
    assert response.context["form"].errors["mfa_methods"]


def test_delete_pool_needs_the_name_typed(console):
    pool = factories.make_pool(name="Keep me")
    response = console.post(reverse("console:pool_delete", args=[pool.id]), {"confirm": "nope"})
    assert response.status_code == 200
    assert "That is not the name" in response.content.decode()
    assert UserPool.objects.filter(pk=pool.pk).exists()


def test_delete_pool_after_confirmation(console):
    pool = factories.make_pool(name="Bye")
    response = console.post(reverse("console:pool_delete", args=[pool.id]), {"confirm": "Bye"})
    assert response["Location"] == reverse("console:index")
    assert not UserPool.objects.filter(pk=pool.pk).exists()
    assert last_audit("pool.delete").target_pool == pool.id


def test_deletion_protection_refuses_delete_with_a_message(console):
    pool = factories.make_pool(name="Guarded", deletion_protection=True)
    response = console.post(reverse("console:pool_delete", args=[pool.id]), {"confirm": "Guarded"})
    assert "deletion protection is activated" in response.content.decode()
    assert UserPool.objects.filter(pk=pool.pk).exists()
    assert not AuditEntry.objects.exists()


def test_add_custom_attribute(console):
    pool = factories.make_pool()
    response = console.post(
        reverse("console:pool_add_attribute", args=[pool.id]),
        {"name": "tier", "data_type": "Number", "mutable": "on", "min_value": 1, "max_value": 5},
    )
    assert response.status_code == 302
    attribute = CustomAttribute.objects.get(pool=pool)
    assert (attribute.name, attribute.min_value, attribute.max_value) == ("tier", 1, 5)
    assert last_audit("pool.add_custom_attribute").detail["name"] == "tier"


def test_add_custom_attribute_error_is_shown(console):
    pool = factories.make_pool()
    response = console.post(
        reverse("console:pool_add_attribute", args=[pool.id]),
        {"name": "bad name", "data_type": "String"},
    )
    assert response.status_code == 400
    assert response.context["attribute_form"].errors["name"]


def test_unknown_pool_is_404(console):
    assert console.get(reverse("console:pool", args=["local_nothere1"])).status_code == 404


def test_the_console_offers_and_uses_the_default_region(settings, console):
    settings.DEFAULT_REGION = "eu-central-1"
    page = console.get(reverse("console:pool_create")).content.decode()
    assert 'value="eu-central-1"' in page
    console.post(reverse("console:pool_create"), pool_form_data(name="Shop"))
    assert UserPool.objects.get(name="Shop").id.startswith("eu-central-1_")


def test_edit_pool_turns_device_remembering_on(console):
    pool = factories.make_pool(name="Devices")
    data = pool_form_data(
        name="Devices",
        track_devices="on",
        device_only_remembered_on_user_prompt="on",
        device_challenge_required_on_new_device="on",
    )
    response = console.post(reverse("console:pool_edit", args=[pool.id]), data)
    assert response.status_code == 302
    pool.refresh_from_db()
    assert pool.track_devices
    assert pool.device_only_remembered_on_user_prompt
    assert pool.device_challenge_required_on_new_device
    detail = console.get(reverse("console:pool", args=[pool.id]))
    assert b"a remembered device stands in for MFA" in detail.content
