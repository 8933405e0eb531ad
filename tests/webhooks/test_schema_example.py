"""The structured data of a sample report matches the assistant's schema, whatever the draft
and however the schema is written, and no schema makes building it endless or huge."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import orjson
import pytest

from clarion.webhooks.schema_example import MAX_ITEMS, MAX_STRING, example_of

DRAFT_4 = "http://json-schema.org/draft-04/schema#"
DRAFT_7 = "http://json-schema.org/draft-07/schema#"
DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema"

SCHEMAS: dict[str, dict[str, Any]] = {
    "flat object": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "confirmed": {"type": "boolean"}},
        "required": ["name", "confirmed"],
        "additionalProperties": False,
    },
    "nested objects and arrays": {
        "type": "object",
        "properties": {
            "patient": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "minLength": 12},
                    "age": {"type": "integer", "minimum": 18, "maximum": 120},
                },
                "required": ["name", "age"],
            },
            "medications": {
                "type": "array",
                "minItems": 3,
                "items": {
                    "type": "object",
                    "properties": {"dose_mg": {"type": "number", "exclusiveMinimum": 0}},
                    "required": ["dose_mg"],
                },
            },
        },
        "required": ["patient", "medications"],
    },
    "enums and consts": {
        "type": "object",
        "properties": {
            "day": {"enum": ["Thursday", "Friday"]},
            "kind": {"const": "reminder"},
            "level": {"type": "integer", "enum": [3, 5]},
        },
        "required": ["day", "kind", "level"],
    },
    "formats": {
        "$schema": DRAFT_7,
        "type": "object",
        "properties": {
            name: {"type": "string", "format": name}
            for name in ("date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6")
        },
        "required": ["date-time", "date", "email"],
    },
    "bounded numbers": {
        "type": "object",
        "properties": {
            "score": {"type": "number", "minimum": 1, "maximum": 10},
            "below_zero": {"type": "integer", "maximum": -3},
            "open": {"type": "integer", "exclusiveMinimum": 4, "exclusiveMaximum": 6},
            "stepped": {"type": "number", "minimum": 7, "multipleOf": 5},
            "half": {"type": "number", "minimum": 0.2, "multipleOf": 0.5},
        },
        "required": ["score", "below_zero", "open", "stepped", "half"],
    },
    "draft 4 exclusive bounds": {
        "$schema": DRAFT_4,
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 2, "exclusiveMinimum": True, "maximum": 4}
        },
        "required": ["n"],
    },
    "short strings": {
        "type": "object",
        "properties": {"code": {"type": "string", "maxLength": 2}},
        "required": ["code"],
    },
    "references": {
        "$schema": DRAFT_2020,
        "$defs": {
            "address": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "zip": {"type": "string"}},
                "required": ["city"],
            }
        },
        "type": "object",
        "properties": {"home": {"$ref": "#/$defs/address"}, "work": {"$ref": "#/$defs/address"}},
        "required": ["home"],
    },
    "draft 7 definitions": {
        "$schema": DRAFT_7,
        "definitions": {"slot": {"type": "string", "enum": ["morning", "afternoon"]}},
        "type": "object",
        "properties": {"slot": {"$ref": "#/definitions/slot"}},
        "required": ["slot"],
    },
    "combinators": {
        "type": "object",
        "properties": {
            "contact": {"anyOf": [{"type": "null"}, {"type": "string", "format": "email"}]},
            "either": {"oneOf": [{"type": "integer", "minimum": 10}, {"type": "string"}]},
            "both": {
                "allOf": [
                    {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
                    {"properties": {"b": {"type": "integer"}}, "required": ["b"]},
                ]
            },
        },
        "required": ["contact", "either", "both"],
    },
    "nullable types": {
        "type": "object",
        "properties": {"callback": {"type": ["null", "string"]}, "n": {"type": ["integer"]}},
        "required": ["callback", "n"],
    },
    "tuples": {
        "$schema": DRAFT_2020,
        "type": "array",
        "prefixItems": [{"type": "string"}, {"type": "integer"}],
        "items": False,
    },
    "draft 7 tuples": {
        "$schema": DRAFT_7,
        "type": "array",
        "items": [{"type": "boolean"}, {"type": "string"}],
        "additionalItems": False,
    },
    "contains": {
        "type": "array",
        "items": {"type": "string"},
        "contains": {"const": "fasting"},
        "minItems": 2,
    },
    "unique items": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    "no items allowed": {"type": "array", "maxItems": 0},
    "limited properties": {
        "type": "object",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}},
        "required": ["c"],
        "maxProperties": 1,
    },
    "typed extra properties": {
        "type": "object",
        "properties": {},
        "required": ["tag"],
        "additionalProperties": {"type": "integer"},
    },
    "pattern with an example": {
        "type": "object",
        "properties": {"mrn": {"type": "string", "pattern": "^MRN-[0-9]{6}$"}},
        "required": ["mrn"],
        "examples": [{"mrn": "MRN-000001"}],
    },
    "pattern with its own example": {
        "type": "string",
        "pattern": "^MRN-[0-9]{6}$",
        "examples": ["MRN-123456"],
    },
    "types implied by keywords": {
        "properties": {
            "n": {"minimum": 3},
            "s": {"minLength": 2},
            "list": {"items": {"type": "integer"}},
        },
        "required": ["n", "s", "list"],
    },
    "boolean schemas": {
        "type": "object",
        "properties": {"anything": True},
        "required": ["anything"],
    },
    "a scalar root": {"type": "integer", "minimum": 1, "maximum": 10},
    "beyond 64 bits": {"type": "integer", "minimum": 1e20},
    "beyond a float": {"type": "number", "minimum": 1e300, "multipleOf": 1e-300},
}


@pytest.mark.parametrize("schema", SCHEMAS.values(), ids=SCHEMAS.keys())
def test_the_example_matches_the_schema(schema: dict[str, Any]) -> None:
    example = example_of(orjson.loads(orjson.dumps(schema)))  # as an assistant keeps it
    orjson.dumps(example)  # as a report carries it

    errors = [error.message for error in jsonschema_rs.validator_for(schema).iter_errors(example)]
    assert errors == [], example


def test_every_declared_property_is_shown_not_only_the_required_ones() -> None:
    example = example_of(SCHEMAS["references"])

    assert example == {"home": {"city": "example", "zip": "example"}, "work": example["home"]}


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"allOf": [{"$ref": "#"}, {"$ref": "#"}]},
        {
            "$defs": {
                "node": {
                    "type": "object",
                    "properties": {
                        "left": {"$ref": "#/$defs/node"},
                        "right": {"$ref": "#/$defs/node"},
                    },
                    "required": ["left", "right"],
                }
            },
            "$ref": "#/$defs/node",
        },
        {"type": "array", "items": {"$ref": "#"}},
        {"type": "array", "minItems": 10**9, "items": {"type": "string", "minLength": 10**9}},
        {"$ref": "https://example.com/elsewhere.json"},
        {"$ref": "#/$defs/missing"},
    ],
    ids=[
        "itself",
        "itself-twice",
        "required-tree",
        "nested-arrays",
        "huge-bounds",
        "remote",
        "missing",
    ],
)
def test_no_schema_makes_the_example_endless_or_huge(schema: dict[str, Any]) -> None:
    example = example_of(schema)

    assert len(orjson.dumps(example)) < 100 * MAX_ITEMS * MAX_STRING
