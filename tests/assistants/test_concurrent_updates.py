"""Two clients patching different fields of one assistant at once both keep their change."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from support import Api

FIELDS = {
    "first_message": "first message from client A",
    "voicemail_message": "voicemail from client B",
    "max_duration_seconds": 1234,
    "webhook_url": "https://hooks.example.org/from-client-c",
    "model": {"provider": "from-client-d"},
    "voice": {"voiceId": "from-client-e"},
    "analysis_plan": {"summaryPrompt": "from client F"},
    "name": "renamed by client G",
}


async def _patch_all_at_once(app: Any, headers: dict[str, str], assistant_id: int) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://clarion") as client:
        responses = await asyncio.gather(
            *(
                client.patch(f"/v1/assistant/{assistant_id}", json={field: value}, headers=headers)
                for field, value in FIELDS.items()
            )
        )
    assert all(response.status_code == 200 for response in responses), [
        response.text for response in responses
    ]


def test_concurrent_patches_of_different_fields_are_all_kept(app: Any, api: Api) -> None:
    for _round in range(15):
        assistant = api.create_assistant(name="Original")

        asyncio.run(_patch_all_at_once(app, api.tenant.headers, assistant["id"]))

        stored = api.get(f"/v1/assistant/{assistant['id']}").json()
        for field, value in FIELDS.items():
            assert stored[field] == value, (field, stored)
