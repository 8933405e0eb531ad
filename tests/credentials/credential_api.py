"""What the credential tests share: keys that are easy to look for where they must never be,
a way to create a credential through the API, and the credential as the checks of every
resource with a secret see it."""

from __future__ import annotations

from typing import Any

from secret_resources import SecretResource
from support import Api

# Provider-like keys, long enough to be shown with a hint (their last 4 characters).
KEY = "sk-proj-Zq9XkV3mP7rT2wY8nB4cD6fG1hJ5kL0s"
OTHER_KEY = "sk-ant-api03-Hh7Gg6Ff5Ee4Dd3Cc2Bb1Aa0Zz9Yy8"

CREDENTIALS = SecretResource(
    path="/v1/credential",
    noun="credential",
    table="provider_credentials",
    secret="api_key",
    schema="Credential",
    id_parameter="credentialId",
)


def create_credential(api: Api, **fields: Any) -> dict[str, Any]:
    """Create a credential (an OpenAI one with KEY unless told otherwise); its JSON."""
    response = api.post("/v1/credential", json={"provider": "openai", "api_key": KEY, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
