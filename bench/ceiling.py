"""The ceiling: a bare ASGI app with no framework, database or auth.

It answers every request with a fixed JSON body the size of an assistant, so that running it
under the same ASGI server as clarion shows the fastest a Python API can be on this machine.
"""

from __future__ import annotations

from typing import Any

import orjson

ASSISTANT_SIZED_BODY = orjson.dumps(
    {
        "id": 1,
        "organization_id": 1,
        "created_at": "2026-11-23T20:00:00.000000Z",
        "updated_at": "2026-11-23T20:00:00.000000Z",
        "name": "Appointment reminders",
        "model": {
            "provider": "openai",
            "model": "gpt-4o",
            "temperature": 0.3,
            "messages": [{"role": "system", "content": "You remind patients of appointments."}],
        },
        "voice": {"provider": "11labs", "voiceId": "rachel"},
        "first_message": "Hello, this is Northside Clinic calling about your appointment.",
        "max_duration_seconds": 600,
        "webhook_url": "https://hooks.example.org/clarion",
        "is_webhook_secret_set": True,
    }
)
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(ASSISTANT_SIZED_BODY)).encode()),
]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while True:  # drain the request body, as a real handler must
        message = await receive()
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": ASSISTANT_SIZED_BODY})
