"""Behind a reverse proxy the operator names (CLARION_TRUSTED_PROXIES), the access log records
the client's address from X-Forwarded-For; from anyone else, that header is not believed."""

from __future__ import annotations

import httpx
import pytest

from clarion.config import Settings
from fake_providers import FakeProviders
from served import clarion_serving, web_call_on
from support import Tenant, worker_env
from webhook_receiver import Receiver

CLIENT = "203.0.113.7"


@pytest.mark.parametrize(
    ("trusted", "recorded"), [("127.0.0.1", CLIENT), ("", "127.0.0.1")], ids=["proxy", "none"]
)
def test_the_address_read_from_is_the_clients_only_through_a_trusted_proxy(
    settings: Settings,
    tenant: Tenant,
    fake: FakeProviders,
    receiver: Receiver,
    trusted: str,
    recorded: str,
) -> None:
    env = worker_env(settings, CLARION_TRUSTED_PROXIES=trusted)
    with clarion_serving(env) as served:
        call = web_call_on(served.base, tenant, fake, receiver)
        http = httpx.Client(base_url=served.base, headers=tenant.headers)
        forwarded = {"X-Forwarded-For": CLIENT}
        assert http.get(f"/v1/call/{call['id']}", headers=forwarded).status_code == 200
        entries = http.get("/v1/access-log", params={"call_id": call["id"]}).json()
    assert [entry["address"] for entry in entries] == [recorded]


def test_a_forwarded_address_that_is_no_address_is_not_believed(
    settings: Settings, tenant: Tenant, fake: FakeProviders, receiver: Receiver
) -> None:
    env = worker_env(settings, CLARION_TRUSTED_PROXIES="127.0.0.1")
    with clarion_serving(env) as served:
        call = web_call_on(served.base, tenant, fake, receiver)
        http = httpx.Client(base_url=served.base, headers=tenant.headers)
        forged = {"X-Forwarded-For": "x" * 400}
        assert http.get(f"/v1/call/{call['id']}", headers=forged).status_code == 200
        signing_in = httpx.post(
            f"{served.base}/v1/session",
            json={"email": "nobody@northside.example", "password": "a guess at it"},
            headers=forged,
        )
        entries = http.get("/v1/access-log", params={"call_id": call["id"]}).json()
    assert signing_in.status_code == 401
    assert [entry["address"] for entry in entries] == [None]
