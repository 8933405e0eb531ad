"""Our OpenAPI document: FastAPI's, shaped to be a superset of the Clarion contract.

The contract lists paths under the server ``/v1`` (``/assistant/{assistantId}``), names its
schemas ``Assistant``, ``UpdateAssistant`` and ``Error``, and reports every failure with the
Error schema, so the framework's own 422 entries do not belong in it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from clarion import __version__
from clarion.assistants.fields import MERGED_FIELDS
from clarion.assistants.schemas import CreateAssistant, UpdateAssistant

API_PREFIX = "/v1"
_REF_TEMPLATE = "#/components/schemas/{model}"

DESCRIPTION = """\
A self-hostable server for the Clarion voice-assistant API.

Every operation except `GET /health` needs `Authorization: Bearer <API key>`. Every failure
answers with the `Error` body: `{"error": <HTTP status>, "message": "..."}`.
"""


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The served document: FastAPI's, with the contract's paths and schema names."""
    document = get_openapi(
        title="Clarion API",
        version=__version__,
        description=DESCRIPTION,
        routes=app.routes,
        license_info={"name": "MIT"},
        servers=[{"url": API_PREFIX}],
    )
    document["paths"] = {
        path.removeprefix(API_PREFIX): _without_framework_errors(item)
        for path, item in document["paths"].items()
    }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _, request_schemas = models_json_schema(
        [(CreateAssistant, "validation"), (UpdateAssistant, "validation")],
        ref_template=_REF_TEMPLATE,
    )
    schemas.update(request_schemas.get("$defs", {}))
    schemas["AssistantMergePatch"] = _merge_patch_schema(schemas["UpdateAssistant"])
    return document


def _merge_patch_schema(update: dict[str, Any]) -> dict[str, Any]:
    """UpdateAssistant, with the nested objects opened up: in a merge patch, a null value
    inside ``model``, ``voice`` or ``analysis_plan`` removes that key."""
    properties = dict(update["properties"])
    for name in sorted(MERGED_FIELDS):
        properties[name] = {
            "type": ["object", "null"],
            "additionalProperties": True,
            "description": "Merged key by key into the stored object; a null value removes a key",
        }
    return {
        "type": "object",
        "title": "AssistantMergePatch",
        "description": "An RFC 7396 JSON Merge Patch of an assistant. The merged result is "
        "validated as UpdateAssistant is.",
        "properties": properties,
        "additionalProperties": False,
    }


def _without_framework_errors(path_item: dict[str, Any]) -> dict[str, Any]:
    for operation in path_item.values():
        operation.get("responses", {}).pop("422", None)
    return path_item


def install_openapi(app: FastAPI) -> None:
    """Serve the shaped document (built once, on first request) at /openapi.json."""
    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cache:
            cache.update(build_openapi(app))
        return cache

    app.openapi = openapi  # type: ignore[method-assign]
