"""What the phone call tests share: Twilio played by the stand-in, and a clinic on a server
Twilio reaches at its public URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from phoning import CLINIC, GREETING

from calls_support import model_of
from fake_twilio import ACCOUNT_SID, AUTH_TOKEN, ThreadedTwilio, running_fake_twilio
from served import free_port
from webhook_receiver import Answer


@pytest.fixture
def twilio() -> Iterator[ThreadedTwilio]:
    with running_fake_twilio() as fake:
        yield fake


@pytest.fixture
def clinic(
    served: Any, tenant: Any, fake: Any, twilio: ThreadedTwilio, receiver: Any
) -> Callable[..., tuple[Any, int, int]]:
    """``clinic(assistant_fields, **settings)``: the API of a server Twilio reaches at its
    public URL, with the clinic's number and an assistant on the fake model (greeting with
    GREETING, its end-of-call reports to the receiver's ``/report``); (api, number id,
    assistant id)."""

    def start(assistant: dict[str, Any], **settings: Any) -> tuple[Any, int, int]:
        port = free_port()
        api = served(
            tenant,
            port=port,
            public_url=f"http://127.0.0.1:{port}",
            twilio_api_base=twilio.url,
            **settings,
        )
        made = api.assistant(
            model=model_of("openai", credential_id=api.credential("openai", fake.openai_url)),
            first_message=GREETING,
            webhook_url=receiver.on("/report", lambda _n: Answer()),
            **assistant,
        )
        number = api.request(
            "POST",
            "/v1/phone-number",
            json={
                "number": CLINIC,
                "provider": "twilio",
                "twilio_account_sid": ACCOUNT_SID,
                "twilio_auth_token": AUTH_TOKEN,
            },
        )
        assert number.status_code == 201, number.text
        return api, number.json()["id"], made["id"]

    return start
