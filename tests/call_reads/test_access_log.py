"""The access log: every response that carries a call's conversation is one entry per call,
naming who read it (a console user or an API key) and from where; owners read the log, newest
first and filtered, and export it; nobody can change or delete an entry, not even with SQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from calls_support import CallsApi
from clarion.cli import app as cli
from clarion.config import Settings
from fake_providers import FakeProviders, Reply
from fake_twilio import running_fake_twilio
from people_support import Browser, add_person, signed_in
from served import free_port
from support import Tenant, assert_error
from webhook_receiver import Answer, Receiver, eventually

runner = CliRunner()

OUTLINE = {
    "id",
    "organization_id",
    "assistant_id",
    "call_type",
    "call_status",
    "started_at",
    "ended_at",
    "duration_ms",
    "ended_reason",
    "created_at",
    "updated_at",
}
"""Everything a call in a list without messages may show."""
PATIENT_NAME = "Maria Okafor"
SUMMARY = f"{PATIENT_NAME}, born 4 May 1961, will come on Thursday."
STRUCTURED = {"patient_name": PATIENT_NAME, "date_of_birth": "1961-05-04"}
ANALYSIS_PLAN = {
    "summaryPrompt": "Summarise the call.",
    "structuredDataPrompt": "Extract the patient's details.",
    "structuredDataSchema": {
        "type": "object",
        "properties": {"patient_name": {"type": "string"}, "date_of_birth": {"type": "string"}},
        "required": ["patient_name", "date_of_birth"],
    },
    "successEvaluationPrompt": "Judge whether the patient confirmed.",
    "successEvaluationRubric": "PassFail",
}


def _log(reader: CallsApi | Browser, **params: Any) -> list[dict[str, Any]]:
    response = reader.http.get if isinstance(reader, CallsApi) else reader.get
    answer = response("/v1/access-log", params=params)
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def _who(entries: list[dict[str, Any]]) -> list[tuple[int, str, int, str | None]]:
    return [(e["call_id"], e["actor_type"], e["actor_id"], e["address"]) for e in entries]


def _at(entry: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(entry["at"])


def _person(api: CallsApi, role: str, address: str = "127.0.0.1") -> Browser:
    """A console user of ``api``'s organization, signed in from ``address`` (127.0.0.1: over
    the network, as a browser; any other: in process, as if from there)."""
    app = api.serving.app
    person = add_person(app, api.tenant.organization_id, role)
    if address == "127.0.0.1":
        return signed_in(httpx.Client(base_url=api.serving.base), person)
    return signed_in(
        TestClient(app, client=(address, 50000), raise_server_exceptions=False), person
    )


def _answers(request: dict[str, Any]) -> Reply:
    """The model of these calls: the analysis plan's parts by their prompts, else a turn of
    the conversation."""
    system = " ".join(m["content"] for m in request["messages"] if m["role"] == "system")
    if "Summarise" in system:
        return Reply(SUMMARY)
    if "Extract" in system:
        return Reply(orjson.dumps(STRUCTURED).decode())
    if "Judge" in system:
        return Reply(orjson.dumps({"result": True}).decode())
    return Reply("See you on Thursday.")


def _calls(api: CallsApi, fake: FakeProviders, count: int) -> list[int]:
    """``count`` new calls (not joined) of one assistant, oldest first."""
    assistant = api.assistant_on(fake)
    return [api.start_call(assistant["id"])["id"] for _ in range(count)]


def test_each_response_carrying_a_conversation_is_one_entry(
    served: Callable[..., CallsApi], tenant: Tenant, fake: FakeProviders, receiver: Receiver
) -> None:
    api = served(tenant)
    report_url = receiver.on("/report", lambda _n: Answer())
    assistant = api.assistant_on(
        fake,
        first_message="Hello, this is Northside Clinic.",
        webhook_url=report_url,
        analysis_plan=ANALYSIS_PLAN,
    )
    created = api.start_call(assistant["id"], name=f"Reminder for {PATIENT_NAME}")
    call_id = created["id"]
    fake.script = _answers
    with api.join(created["web_call_url"]) as call:
        call.until("assistant-message")
        call.say("I will be there.")
        call.until("assistant-message")
        call.hang_up()
        call.until("call-ended")
    assert orjson.loads(receiver.wait_for("/report", 1)[0].body)["id"] == call_id

    def delivered() -> bool:
        listed = api.http.get("/v1/webhook-deliveries").json()
        return [d["status"] for d in listed] == ["succeeded"]

    eventually(delivered, "the report's delivery")
    (delivery,) = api.http.get("/v1/webhook-deliveries").json()
    # The report's delivery is found by its call, and by no other.
    assert delivery["call_id"] == call_id
    by_call = api.http.get("/v1/webhook-deliveries", params={"call_id": call_id}).json()
    assert [found["id"] for found in by_call] == [delivery["id"]]
    assert api.http.get("/v1/webhook-deliveries", params={"call_id": call_id + 1}).json() == []
    # The call made, held, analysed and reported: nobody has read it yet. Lists of
    # deliveries carry no conversation either, nor does a list of calls without their
    # messages: not even what the model made of it, nor the name naming the patient.
    bare = api.http.get("/v1/call", params={"include_messages": "false"})
    (outline,) = bare.json()
    assert outline["id"] == call_id and outline["ended_reason"] == "customer-ended"
    assert set(outline) == OUTLINE
    assert PATIENT_NAME not in bare.text and "1961" not in bare.text
    assert _log(api) == []
    # The list with the messages carries all of it, and is a read.
    (listed,) = api.http.get("/v1/call").json()
    assert listed["summary"] == SUMMARY and listed["name"] == f"Reminder for {PATIENT_NAME}"
    assert listed["analysis"] == {"structuredData": STRUCTURED, "successEvaluation": True}
    assert "I will be there." in listed["transcript"] and listed["messages"]
    assert _who(_log(api)) == [(call_id, "api_key", tenant.key_id, "127.0.0.1")]

    viewer, editor = _person(api, "viewer"), _person(api, "editor")
    read = api.http.get(f"/v1/call/{call_id}")
    assert "I will be there." in read.json()["transcript"]
    assert len(viewer.get(f"/v1/call/{call_id}").json()["messages"]) >= 3
    report = viewer.get(f"/v1/webhook-deliveries/{delivery['id']}").json()["payload"]
    assert "I will be there." in report["transcript"]
    ended = editor.post(f"/v1/call/{call_id}/end")
    assert ended.status_code == 200 and ended.json()["messages"]
    redelivered = editor.post(f"/v1/webhook-deliveries/{delivery['id']}/redeliver")
    assert redelivered.status_code == 202, redelivered.text
    assert "I will be there." in redelivered.json()["payload"]["transcript"]
    deleted = api.http.delete(f"/v1/call/{call_id}")
    assert deleted.status_code == 200 and deleted.json()["messages"]
    assert_error(api.http.get(f"/v1/call/{call_id}"), 404)  # gone: nothing read, nothing noted

    key = (call_id, "api_key", tenant.key_id, "127.0.0.1")
    by_viewer = (call_id, "user", viewer.user_id, "127.0.0.1")
    by_editor = (call_id, "user", editor.user_id, "127.0.0.1")
    entries = _log(api)
    assert _who(entries) == [key, by_editor, by_editor, by_viewer, by_viewer, key, key]
    # The entries outlive the call they name.
    assert _log(api, call_id=call_id) == entries


def test_a_list_without_messages_does_not_name_a_phone_calls_patient(
    served: Callable[..., CallsApi], tenant: Tenant, fake: FakeProviders
) -> None:
    clinic, patient = "+15550100200", "+15550199999"
    with running_fake_twilio() as twilio:
        port = free_port()
        api = served(
            tenant, port=port, public_url=f"http://127.0.0.1:{port}", twilio_api_base=twilio.url
        )
        number = api.http.post(
            "/v1/phone-number",
            json={
                "number": clinic,
                "provider": "twilio",
                "twilio_account_sid": twilio.fake.account_sid,
                "twilio_auth_token": twilio.fake.auth_token,
            },
        )
        assert number.status_code == 201, number.text
        # Twilio's own words for a number it cannot call quote the number.
        twilio.fake.refuse(400, 21211, f"The 'To' number {patient} is not a valid phone number.")
        created = api.start_call(
            api.assistant_on(fake)["id"],
            call_type="outboundPhoneCall",
            source_phone_number_id=number.json()["id"],
            destination_phone_number=patient,
        )
        call_id = created["id"]

        def outlined() -> list[dict[str, Any]]:
            bare = api.http.get("/v1/call", params={"include_messages": "false"})
            assert bare.status_code == 200, bare.text
            assert patient not in bare.text and clinic not in bare.text
            calls: list[dict[str, Any]] = bare.json()
            return calls

        eventually(lambda: outlined()[0]["call_status"] == "ended", "the refused call's end")
        (outline,) = outlined()
        assert outline["id"] == call_id
        assert outline["ended_reason"] == "twilio-failed-to-connect-call"
        assert set(outline) <= OUTLINE
        assert _log(api) == []

        (listed,) = api.http.get("/v1/call").json()
        assert (listed["source_number"], listed["destination_number"]) == (clinic, patient)
        assert patient in listed["failure_detail"]
        assert _who(_log(api)) == [(call_id, "api_key", tenant.key_id, "127.0.0.1")]


def test_a_list_is_one_entry_for_each_call_it_carries(
    served: Callable[..., CallsApi], tenant: Tenant, fake: FakeProviders
) -> None:
    api = served(tenant)
    first, second, third = _calls(api, fake, 3)

    assert len(api.http.get("/v1/call").json()) == 3
    entries = _log(api)
    assert sorted(e["call_id"] for e in entries) == [first, second, third]
    assert {(e["actor_type"], e["actor_id"], e["at"]) for e in entries} == {
        ("api_key", tenant.key_id, entries[0]["at"])
    }

    assert [c["id"] for c in api.http.get("/v1/call", params={"limit": 2}).json()] == [
        third,
        second,
    ]
    assert api.http.get("/v1/call", params={"call_status": "ended"}).json() == []
    after = _log(api)
    assert len(after) == 5
    assert sorted(e["call_id"] for e in after[:2]) == [second, third]


def test_the_log_is_newest_first_and_filtered(
    served: Callable[..., CallsApi], tenant: Tenant, fake: FakeProviders
) -> None:
    api = served(tenant)
    first, second = _calls(api, fake, 2)
    viewer = _person(api, "viewer", "10.0.0.5")
    from_elsewhere = TestClient(api.serving.app, client=("10.0.0.6", 50000))
    assert from_elsewhere.get(f"/v1/call/{first}", headers=tenant.headers).status_code == 200
    assert viewer.get(f"/v1/call/{second}").status_code == 200
    assert viewer.get(f"/v1/call/{first}").status_code == 200
    assert len(viewer.get("/v1/call").json()) == 2

    entries = _log(api)

    assert len(entries) == 5
    assert [(_at(e), e["id"]) for e in entries] == sorted(
        ((_at(e), e["id"]) for e in entries), reverse=True
    )
    assert _who(entries[2:]) == [
        (first, "user", viewer.user_id, "10.0.0.5"),
        (second, "user", viewer.user_id, "10.0.0.5"),
        (first, "api_key", tenant.key_id, "10.0.0.6"),
    ]

    def only(keep: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
        return [e for e in entries if keep(e)]

    assert _log(api, call_id=first) == only(lambda e: e["call_id"] == first)
    assert _log(api, actor_type="api_key") == only(lambda e: e["actor_type"] == "api_key")
    assert _log(api, actor_type="user", actor_id=viewer.user_id) == only(
        lambda e: e["actor_type"] == "user"
    )
    assert _log(api, actor_type="user", actor_id=viewer.user_id + 100) == []
    middle = entries[2]
    assert _log(api, at_ge=middle["at"]) == only(lambda e: _at(e) >= _at(middle))
    assert _log(api, at_le=middle["at"]) == only(lambda e: _at(e) <= _at(middle))
    assert _log(api, at_ge=middle["at"], at_le=middle["at"]) == only(
        lambda e: _at(e) == _at(middle)
    )
    # A bound with an offset is the same moment.
    east = _at(middle).astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()
    assert _log(api, at_le=east) == only(lambda e: _at(e) <= _at(middle))
    assert _log(api, limit=2) == entries[:2]
    assert _log(api, call_id=second, actor_type="api_key") == []

    for params, named in [
        ({"actor_type": "robot"}, "actor_type"),
        ({"call_id": "0"}, "call_id"),
        ({"actor_id": "x"}, "actor_id"),
        ({"at_ge": "yesterday"}, "at_ge"),
        ({"at_le": "1700000000"}, "at_le"),
        ({"limit": "0"}, "limit"),
    ]:
        assert_error(api.http.get("/v1/access-log", params=params), 400, named)


def test_only_owners_read_the_log_and_only_their_organization(
    served: Callable[..., CallsApi], tenant: Tenant, other_tenant: Tenant, fake: FakeProviders
) -> None:
    api, theirs = served(tenant), served(other_tenant)
    (mine,) = _calls(api, fake, 1)
    (their_call,) = _calls(theirs, fake, 1)
    assert api.http.get(f"/v1/call/{mine}").status_code == 200
    assert theirs.http.get(f"/v1/call/{their_call}").status_code == 200
    assert len(theirs.http.get("/v1/call").json()) == 1

    owner = _person(api, "owner")
    assert _who(_log(owner)) == [(mine, "api_key", tenant.key_id, "127.0.0.1")]
    assert _log(owner, call_id=their_call) == []
    assert _who(_log(theirs)) == [
        (their_call, "api_key", other_tenant.key_id, "127.0.0.1"),
        (their_call, "api_key", other_tenant.key_id, "127.0.0.1"),
    ]
    for role in ("viewer", "editor"):
        assert_error(_person(api, role).get("/v1/access-log"), 403, "owner")


def test_a_read_that_fails_records_nothing(
    served: Callable[..., CallsApi],
    tenant: Tenant,
    other_tenant: Tenant,
    fake: FakeProviders,
    receiver: Receiver,
) -> None:
    api, theirs = served(tenant), served(other_tenant)
    (their_call,) = _calls(theirs, fake, 1)
    owner = _person(api, "owner")
    sample_to = receiver.on("/sample", lambda _n: Answer())
    assistant = api.assistant_on(fake, webhook_url=sample_to)
    sample = api.http.post(f"/v1/assistant/{assistant['id']}/webhook/test").json()

    for reader in (api.http, owner):
        for method, path in [
            ("GET", f"/v1/call/{their_call}"),
            ("POST", f"/v1/call/{their_call}/end"),
            ("DELETE", f"/v1/call/{their_call}"),
            ("GET", "/v1/call/999999"),
            ("GET", "/v1/call/abc"),
            ("GET", "/v1/webhook-deliveries/999999"),
        ]:
            assert_error(reader.request(method, path), 404)
    # A test delivery's report is a sample: no call's conversation is in it.
    assert api.http.get(f"/v1/webhook-deliveries/{sample['id']}").json()["payload"]["id"] == 0

    assert _log(api) == []
    assert _log(theirs) == []
    assert theirs.http.get(f"/v1/call/{their_call}").json()["call_status"] == "queued"


def test_the_database_refuses_to_change_or_delete_an_entry(
    served: Callable[..., CallsApi], tenant: Tenant, fake: FakeProviders, settings: Settings
) -> None:
    api = served(tenant)
    (call_id,) = _calls(api, fake, 1)
    assert api.http.get(f"/v1/call/{call_id}").status_code == 200
    (entry,) = _log(api)
    engine = create_engine(settings.database)
    statements = [
        "UPDATE call_reads SET actor_id = actor_id + 1",
        "UPDATE call_reads SET address = NULL WHERE id = :id",
        "DELETE FROM call_reads WHERE id = :id",
        "DELETE FROM call_reads",
    ]
    if engine.dialect.name == "postgresql":
        statements.append("TRUNCATE call_reads")
    try:
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement), {"id": entry["id"]})
    finally:
        engine.dispose()

    assert _log(api) == [entry]


def test_export_writes_the_log_as_json_lines_oldest_first(
    served: Callable[..., CallsApi],
    tenant: Tenant,
    other_tenant: Tenant,
    fake: FakeProviders,
    settings: Settings,
) -> None:
    api, theirs = served(tenant), served(other_tenant)
    calls = _calls(api, fake, 3)
    for call_id in calls:
        assert api.http.get(f"/v1/call/{call_id}").status_code == 200
    (their_call,) = _calls(theirs, fake, 1)
    assert theirs.http.get(f"/v1/call/{their_call}").status_code == 200
    newest_first = _log(api)
    assert settings.database_url is not None
    env = {
        "CLARION_DATA_DIR": str(settings.data_dir),
        "CLARION_DATABASE_URL": settings.database_url,
    }

    def export(*options: str) -> tuple[list[dict[str, Any]], str]:
        args = ["access-log", "export", "--org", str(tenant.organization_id), *options]
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()], result.stderr

    exported, said = export()

    assert exported == newest_first[::-1]
    assert [e["call_id"] for e in exported] == calls
    assert "3 entries" in said
    middle = exported[1]["at"]
    assert export("--since", middle)[0] == exported[1:]
    assert export("--until", middle)[0] == exported[:2]
    assert export("--since", middle, "--until", middle)[0] == [exported[1]]
    later, said_later = export("--since", "2999-01-01T00:00:00+00:00")
    assert later == [] and "0 entries" in said_later

    bad = runner.invoke(
        cli, ["access-log", "export", "--org", "1", "--since", "last week"], env=env
    )
    assert bad.exit_code == 2
    assert "--since" in bad.stderr and bad.stdout == ""
