"""App clients (secret shown once, rotatable) and resource servers with their scopes."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from console import audit, errors
from console.access import operator_view
from console.forms.clients import ClientForm, ResourceServerForm
from console.views.common import confirm_delete, get_pool
from pool.errors import CognitoError
from pool.models import AppClient, ResourceServer
from pool.services import app_clients
from pool.services import resource_servers as resource_server_services


def _page(pool, tab: str, **extra) -> dict:
    return {"pool": pool, "tab": tab, "section": "pools", **extra}


@operator_view
def client_list(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    clients = AppClient.objects.filter(pool=pool).order_by("name")
    return render(request, "console/clients/list.html", _page(pool, "clients", clients=clients))


@operator_view
def client_create(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    form = ClientForm(request.POST or None, pool=pool)
    if request.method == "POST" and form.is_valid():
        values = form.values()
        try:
            with audit.recording(
                request,
                "client.create",
                pool=pool,
                detail={"name": values["name"], "secret": values["generate_secret"]},
            ) as entry:
                client, secret = app_clients.create_client(pool=pool, **values)
                entry.client = client
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            # Rendered, not redirected: the secret's plaintext is never stored anywhere.
            messages.success(request, f"App client {client.name} created.")
            page = _page(pool, "clients", client=client, secret=secret, created=True)
            return render(request, "console/clients/secret.html", page, status=201)
    return render(request, "console/clients/form.html", _page(pool, "clients", form=form))


@operator_view
def client_detail(request: HttpRequest, pool_id: str, client_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    client = get_object_or_404(AppClient, pool=pool, client_id=client_id)
    form = ClientForm(request.POST or None, pool=pool, client=client)
    if request.method == "POST" and form.is_valid():
        changes = {
            name: value for name, value in form.values().items() if getattr(client, name) != value
        }
        try:
            with audit.recording(
                request,
                "client.update",
                pool=pool,
                client=client,
                detail={"changed": sorted(changes)},
            ):
                app_clients.update_client(client=client, **changes)
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, "App client saved.")
            return redirect("console:client", pool_id=pool.id, client_id=client.client_id)
    page = _page(pool, "clients", form=form, client=client)
    return render(request, "console/clients/form.html", page)


@operator_view
@require_POST
def client_rotate_secret(request: HttpRequest, pool_id: str, client_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    client = get_object_or_404(AppClient, pool=pool, client_id=client_id)
    try:
        with audit.recording(request, "client.rotate_secret", pool=pool, client=client):
            secret = app_clients.rotate_client_secret(client=client)
    except CognitoError as exc:
        messages.error(request, exc.message)
        return redirect("console:client", pool_id=pool.id, client_id=client.client_id)
    messages.success(request, "New client secret generated; the old one no longer works.")
    page = _page(pool, "clients", client=client, secret=secret, created=False)
    return render(request, "console/clients/secret.html", page)


@operator_view
def client_delete(request: HttpRequest, pool_id: str, client_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    client = get_object_or_404(AppClient, pool=pool, client_id=client_id)
    return confirm_delete(
        request,
        noun="app client",
        name=client.name,
        consequence="Apps using this client id can no longer sign users in; its refresh "
        "tokens stop working.",
        page=_page(pool, "clients"),
        cancel_url=reverse("console:client", args=[pool.id, client.client_id]),
        audit_action="client.delete",
        audit_targets={"pool": pool, "client": client.client_id, "detail": {"name": client.name}},
        delete=lambda: app_clients.delete_client(client=client),
        done_url=reverse("console:clients", args=[pool.id]),
    )


@operator_view
def resource_servers(request: HttpRequest, pool_id: str) -> HttpResponse:
    pool = get_pool(pool_id)
    form = ResourceServerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            with audit.recording(
                request,
                "resource_server.create",
                pool=pool,
                detail={"identifier": values["identifier"]},
            ):
                resource_server_services.create_resource_server(pool=pool, **values)
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, f"Resource server {values['identifier']} created.")
            return redirect("console:resource_servers", pool_id=pool.id)
    servers = ResourceServer.objects.filter(pool=pool)
    page = _page(pool, "resource_servers", servers=servers, form=form)
    return render(request, "console/clients/resource_servers.html", page)


@operator_view
def resource_server_detail(request: HttpRequest, pool_id: str, server_id: int) -> HttpResponse:
    pool = get_pool(pool_id)
    server = get_object_or_404(ResourceServer, pool=pool, pk=server_id)
    form = ResourceServerForm(request.POST or None, server=server)
    if request.method == "POST" and form.is_valid():
        try:
            with audit.recording(
                request,
                "resource_server.update",
                pool=pool,
                detail={
                    "identifier": server.identifier,
                    "scopes": [s["name"] for s in form.cleaned_data["scopes"]],
                },
            ):
                resource_server_services.update_resource_server(
                    server=server,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                )
        except CognitoError as exc:
            errors.attach(form, exc)
        else:
            messages.success(request, f"Resource server {server.identifier} saved.")
            return redirect("console:resource_servers", pool_id=pool.id)
    page = _page(pool, "resource_servers", server=server, form=form)
    return render(request, "console/clients/resource_server.html", page)


@operator_view
def resource_server_delete(request: HttpRequest, pool_id: str, server_id: int) -> HttpResponse:
    pool = get_pool(pool_id)
    server = get_object_or_404(ResourceServer, pool=pool, pk=server_id)
    return confirm_delete(
        request,
        noun="resource server",
        name=server.identifier,
        consequence="Its scopes are taken away from every app client.",
        page=_page(pool, "resource_servers"),
        cancel_url=reverse("console:resource_server", args=[pool.id, server.pk]),
        audit_action="resource_server.delete",
        audit_targets={"pool": pool, "detail": {"identifier": server.identifier}},
        delete=lambda: resource_server_services.delete_resource_server(server=server),
        done_url=reverse("console:resource_servers", args=[pool.id]),
    )
