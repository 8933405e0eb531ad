"""The kept JSON of rendered assistants, by id and version."""

from __future__ import annotations

import orjson

from clarion.api.responses import json_array
from clarion.assistants.rendered import RenderedAssistants


def test_all_of_answers_only_when_every_pair_is_kept() -> None:
    rendered = RenderedAssistants()
    first = rendered.render((1, 1), {"id": 1, "name": "First"})
    second = rendered.render((2, 4), {"id": 2, "name": "Second"})

    assert rendered.all_of([(2, 4), (1, 1)]) == [second, first]
    assert rendered.all_of([(2, 4), (1, 2)]) is None  # version 2 of assistant 1: not rendered
    assert rendered.all_of([]) == []


def test_the_oldest_rendered_makes_room_when_full() -> None:
    rendered = RenderedAssistants(capacity=2)
    for version in (1, 2, 3):
        rendered.render((7, version), {"id": 7, "version": version})

    assert rendered.all_of([(7, 1)]) is None
    assert rendered.all_of([(7, 2), (7, 3)]) is not None


def test_json_array_is_what_orjson_writes_for_the_list() -> None:
    items = [{"id": 1, "name": "A \u00e9"}, {"id": 2, "model": {"provider": "openai"}}]
    rendered = RenderedAssistants()
    bodies = [rendered.render((item["id"], 1), item) for item in items]

    assert json_array(bodies) == orjson.dumps(items)
    assert json_array([]) == b"[]"
