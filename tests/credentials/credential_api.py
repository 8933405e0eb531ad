"""What the credential tests share: keys that are easy to look for where they must never be,
and a way to create a credential through the API."""

from __future__ import annotations

from typing import Any

from support import Api

# Provider-like keys, long enough to be shown with a hint (their last 4 characters).
KEY = "sk-proj-Zq9XkV3mP7rT2wY8nB4cD6fG1hJ5kL0s"
OTHER_KEY = "sk-ant-api03-Hh7Gg6Ff5Ee4Dd3Cc2Bb1Aa0Zz9Yy8"


def create_credential(api: Api, **fields: Any) -> dict[str, Any]:
    """Create a credential (an OpenAI one with KEY unless told otherwise); its JSON."""
    response = api.post("/v1/credential", json={"provider": "openai", "api_key": KEY, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def leaks(text: str, key: str) -> bool:
    """Whether ``text`` holds the key, or any part of it beyond the 4 characters of the hint."""
    return any(key[start : start + 5] in text for start in range(len(key) - 4))
