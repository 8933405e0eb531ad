"""What the tests of each resource holding a write-only secret check alike (provider
credentials, phone numbers): the secret sealed at rest and said nowhere, a refused body
changing nothing, and another organization's resource as good as a missing one.

Each resource's tests describe it with a :class:`SecretResource` and run these checks
against it, next to the checks only that resource has.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from clarion.database import Database
from clarion.storage.secret_box import PROVIDER_API_KEY, SecretBox
from support import Api, assert_error


@dataclass(frozen=True)
class SecretResource:
    """Where a resource is served, how it is named, and what its secret is called."""

    path: str
    """The collection, as requests name it: ``/v1/credential``."""
    noun: str
    """How messages name one: ``credential`` (``credential 7 not found``)."""
    table: str
    secret: str
    """The write-only field: ``api_key``; stored as ``api_key_encrypted`` and ``api_key_hint``."""
    schema: str
    """The representation's name in the OpenAPI document."""
    id_parameter: str
    """The item path's parameter in the OpenAPI document: ``credentialId``."""

    def item(self, resource_id: object) -> str:
        return f"{self.path}/{resource_id}"


def leaks(text: str, secret: str) -> bool:
    """Whether ``text`` holds the secret, or any part of it beyond the 4 characters of the
    hint."""
    return any(secret[start : start + 5] in text for start in range(len(secret) - 4))


def _stored_row(database: Database, resource: SecretResource, resource_id: int) -> dict[str, Any]:
    with database.unit() as unit:
        row = unit.session.execute(
            text(f"SELECT * FROM {resource.table} WHERE id = :id"),
            {"id": resource_id},
        )
        return dict(row.mappings().one())


def _as_text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


def assert_sealed_at_rest(
    resource: SecretResource,
    database: Database,
    app: Any,
    organization_id: int,
    resource_id: int,
    secret: str,
) -> dict[str, Any]:
    """The stored row holds ``secret`` only sealed, for its organization and its purpose; the
    row."""
    row = _stored_row(database, resource, resource_id)
    assert not any(leaks(_as_text(value), secret) for value in row.values())
    ciphertext = bytes(row[f"{resource.secret}_encrypted"])
    box: SecretBox = app.state.services.secrets
    assert box.decrypt(ciphertext, organization_id, PROVIDER_API_KEY) == secret
    with pytest.raises(Exception):  # noqa: B017 - bound to its organization: any failure
        box.decrypt(ciphertext, organization_id + 1, PROVIDER_API_KEY)
    with pytest.raises(Exception):  # noqa: B017 - and to its purpose: not a webhook secret
        box.decrypt(ciphertext, organization_id)
    return row


def _everything_said(response: Any) -> str:
    headers = "\n".join(f"{name}: {value}" for name, value in response.headers.items())
    return f"{response.status_code}\n{headers}\n{response.text}"


def assert_never_said(
    secret: str,
    responses: Sequence[Any],
    access_stream: io.BytesIO,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Neither the responses (status, headers and body) nor the access log and the log lines
    they made hold ``secret``."""
    for response in responses:
        assert not leaks(_everything_said(response), secret), response.text
    logged = access_stream.getvalue().decode() + caplog.text
    assert access_stream.getvalue().count(b"\n") >= len(responses)
    assert not leaks(logged, secret)


def assert_write_only_in_openapi(api: Api, resource: SecretResource) -> None:
    """The OpenAPI document marks the secret write-only in both request bodies, and the
    representation has no such field, only that it is set."""
    document = api.get("/openapi.json").json()
    collection = resource.path.removeprefix("/v1")
    operations = (
        document["paths"][collection]["post"],
        document["paths"][f"{collection}/{{{resource.id_parameter}}}"]["patch"],
    )
    for operation in operations:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        assert schema["properties"][resource.secret]["writeOnly"] is True
    shown = document["components"]["schemas"][resource.schema]["properties"]
    assert resource.secret not in shown
    assert f"is_{resource.secret}_set" in shown


def assert_refused(
    api: Api,
    resource: SecretResource,
    existing: dict[str, Any],
    status: int,
    named: str,
    *,
    create: str | bytes,
    change: str | bytes,
    headers: dict[str, str],
) -> None:
    """Creating with the body ``create`` and changing ``existing`` with ``change`` both fail
    with ``status``, naming ``named``, and the list still holds ``existing`` alone."""
    assert_error(api.post(resource.path, content=create, headers=headers), status, named)
    path = resource.item(existing["id"])
    assert_error(api.patch(path, content=change, headers=headers), status, named)
    assert api.get(resource.path).json() == [existing]


def assert_null_clears(
    api: Api, resource: SecretResource, existing: dict[str, Any], field: str, other: str
) -> None:
    """Null clears ``field``, which the representation then leaves out; ``other`` stays."""
    path = resource.item(existing["id"])

    cleared = api.patch(path, json={field: None})

    assert cleared.status_code == 200, cleared.text
    assert field not in cleared.json()
    assert field not in api.get(path).json()
    assert cleared.json()[other] == existing[other]


def assert_secret_replaced(
    api: Api, resource: SecretResource, existing: dict[str, Any], other_secret: str
) -> None:
    """A new secret replaces the old one, with its own hint; a short one leaves none."""
    path = resource.item(existing["id"])

    replaced = api.patch(path, json={resource.secret: other_secret})

    assert replaced.status_code == 200, replaced.text
    assert replaced.json()[f"{resource.secret}_hint"] == "…" + other_secret[-4:]
    assert replaced.json()[f"is_{resource.secret}_set"] is True
    updated_at = dt.datetime.fromisoformat(replaced.json()["updated_at"])
    assert updated_at > dt.datetime.fromisoformat(existing["updated_at"])
    # A short secret after a long one: the old hint goes too.
    short = api.patch(path, json={resource.secret: "short"}).json()
    assert f"{resource.secret}_hint" not in short


def assert_ids_that_cannot_exist_are_404(api: Api, resource: SecretResource, raw_id: str) -> None:
    """An id that is no positive integer names nothing: 404 for every operation on it."""
    for method in ("GET", "PATCH", "DELETE"):
        kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PATCH" else {}
        response = api.request(method, resource.item(raw_id), **kwargs)
        assert_error(response, 404, resource.noun)


def assert_every_operation_needs_an_api_key(
    client: TestClient, resource: SecretResource, existing: dict[str, Any], body: dict[str, Any]
) -> None:
    """Without an API key, or with one that is not the server's, every operation is a 401."""
    path = resource.item(existing["id"])
    for method, target, kwargs in [
        ("POST", resource.path, {"json": body}),
        ("GET", resource.path, {}),
        ("GET", path, {}),
        ("PATCH", path, {"json": {"name": "x"}}),
        ("DELETE", path, {}),
    ]:
        assert_error(client.request(method, target, **kwargs), 401, "Authorization")
        wrong = {"Authorization": "Bearer clarion_sk_not-a-key"}
        assert client.request(method, target, headers=wrong, **kwargs).status_code == 401


def assert_as_good_as_missing(
    api: Api,
    owner: Api,
    resource: SecretResource,
    theirs: dict[str, Any],
    method: str,
    kwargs: dict[str, Any],
) -> None:
    """``method`` on ``theirs`` (``owner``'s) answers as on an id nobody has, but for the id,
    and leaves it as it was."""
    missing_id = theirs["id"] + 1000

    foreign = api.request(method, resource.item(theirs["id"]), **kwargs)
    absent = api.request(method, resource.item(missing_id), **kwargs)

    assert_error(foreign, 404, f"{resource.noun} {theirs['id']} not found")
    assert_error(absent, 404, f"{resource.noun} {missing_id} not found")
    assert foreign.json()["message"].replace(str(theirs["id"]), "N") == absent.json()[
        "message"
    ].replace(str(missing_id), "N")
    assert owner.get(resource.item(theirs["id"])).json() == theirs
