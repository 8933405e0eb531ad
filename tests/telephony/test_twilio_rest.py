"""The Twilio REST client, over real HTTP against the Twilio stand-in on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import pytest
from aiohttp import web

from clarion.telephony.rest import PlacedCall, TwilioClient, TwilioError
from clarion.telephony.twiml import connect_stream
from fake_twilio import AUTH_TOKEN, FakeTwilio, fake_twilio

T = TypeVar("T")
TO, FROM = "+15558675310", "+15550001111"
CALLBACK = "https://clarion.example.org/v1/twilio/status"
AMD_CALLBACK = "https://clarion.example.org/v1/twilio/amd"
TWIML = connect_stream("wss://clarion.example.org/v1/call/c1/twilio", "tok-1")


def run(scenario: Callable[[FakeTwilio, TwilioClient], Awaitable[T]]) -> T:
    """``scenario`` against a fresh fake, with a client on the fake's credentials."""

    async def main() -> T:
        async with fake_twilio() as fake, aiohttp.ClientSession() as session:
            client = TwilioClient(session, fake.account_sid, fake.auth_token, fake.url)
            return await scenario(fake, client)

    return asyncio.run(main())


def test_a_call_is_placed_with_twilios_parameter_names() -> None:
    async def scenario(fake: FakeTwilio, client: TwilioClient) -> tuple[FakeTwilio, PlacedCall]:
        placed = await client.place_call(
            TO,
            FROM,
            twiml=TWIML,
            status_callback=CALLBACK,
            amd_status_callback=AMD_CALLBACK,
            timeout_seconds=25,
        )
        return fake, placed

    fake, placed = run(scenario)
    [call] = fake.calls
    assert placed == PlacedCall(call.sid, "queued")
    assert call.sid.startswith("CA")
    assert list(call.form.items()) == [
        ("To", TO),
        ("From", FROM),
        ("Twiml", TWIML),
        ("StatusCallback", CALLBACK),
        ("StatusCallbackMethod", "POST"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
        ("MachineDetection", "DetectMessageEnd"),
        ("AsyncAmd", "true"),
        ("AsyncAmdStatusCallback", AMD_CALLBACK),
        ("AsyncAmdStatusCallbackMethod", "POST"),
        ("Timeout", "25"),
    ]
    assert call.twiml == TWIML and call.status_events[-1] == "completed"


def test_a_call_by_url_without_machine_detection() -> None:
    async def scenario(fake: FakeTwilio, client: TwilioClient) -> FakeTwilio:
        await client.place_call(
            TO,
            FROM,
            url="https://clarion.example.org/v1/twilio/answer?call=c1",
            status_callback=CALLBACK,
            status_events=("completed",),
            machine_detection=None,
        )
        return fake

    [call] = run(scenario).calls
    assert call.url == "https://clarion.example.org/v1/twilio/answer?call=c1"
    assert call.twiml is None
    assert call.status_events == ["completed"]
    assert not {"MachineDetection", "AsyncAmd", "Timeout"} & set(call.form)


def test_a_call_needs_exactly_one_of_twiml_and_url() -> None:
    async def scenario(fake: FakeTwilio, client: TwilioClient) -> None:
        with pytest.raises(ValueError):
            await client.place_call(TO, FROM, status_callback=CALLBACK)
        with pytest.raises(ValueError):
            await client.place_call(TO, FROM, twiml=TWIML, url=CALLBACK, status_callback=CALLBACK)
        assert fake.calls == []

    run(scenario)


def test_a_refusal_keeps_twilios_code_and_message() -> None:
    async def scenario(fake: FakeTwilio, client: TwilioClient) -> TwilioError:
        fake.refuse(400, 21211, "The 'To' number is not a valid phone number.")
        with pytest.raises(TwilioError) as raised:
            await client.place_call(TO, FROM, twiml=TWIML, status_callback=CALLBACK)
        return raised.value

    error = run(scenario)
    assert (error.status, error.code) == (400, 21211)
    assert error.message == "The 'To' number is not a valid phone number."
    assert not error.retryable
    assert error.failure_detail == (
        "Twilio error 21211: The 'To' number is not a valid phone number."
    )
    # The exception's text names the status and code; Twilio's words stay in failure_detail.
    assert str(error) == "twilio: answered 400 with error 21211"


def test_twilios_faults_and_rate_limits_may_be_retried() -> None:
    async def scenario(fake: FakeTwilio, client: TwilioClient) -> list[TwilioError]:
        fake.fail(503)
        fake.fail(429)
        errors = []
        for _ in range(2):
            with pytest.raises(TwilioError) as raised:
                await client.place_call(TO, FROM, twiml=TWIML, status_callback=CALLBACK)
            errors.append(raised.value)
        await client.place_call(TO, FROM, twiml=TWIML, status_callback=CALLBACK)  # then it works
        assert len(fake.calls) == 1
        return errors

    unavailable, limited = run(scenario)
    assert (unavailable.status, unavailable.retryable) == (503, True)
    assert (limited.status, limited.retryable) == (429, True)


def test_wrong_credentials_are_refused_and_the_token_never_shown() -> None:
    async def scenario(fake: FakeTwilio, client: TwilioClient) -> TwilioError:
        async with aiohttp.ClientSession() as session:
            wrong = TwilioClient(session, fake.account_sid, "wrong-token-31e7", fake.url)
            with pytest.raises(TwilioError) as raised:
                await wrong.place_call(TO, FROM, twiml=TWIML, status_callback=CALLBACK)
        assert fake.unauthorized == 1 and fake.calls == []
        return raised.value

    error = run(scenario)
    assert (error.status, error.code, error.retryable) == (401, 20003, False)
    assert "wrong-token-31e7" not in f"{error!s} {error!r} {error.failure_detail}"


def test_a_message_echoing_the_token_is_blotted() -> None:
    async def scenario(fake: FakeTwilio, client: TwilioClient) -> TwilioError:
        fake.refuse(400, 21210, f"Token {AUTH_TOKEN} is not allowed here" + " pad" * 100)
        with pytest.raises(TwilioError) as raised:
            await client.place_call(TO, FROM, twiml=TWIML, status_callback=CALLBACK)
        return raised.value

    error = run(scenario)
    assert AUTH_TOKEN not in error.failure_detail
    assert error.message is not None and error.message.startswith("Token [auth token] is not")
    assert len(error.message) <= 200


def test_an_unreachable_twilio_is_a_retryable_network_failure() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def scenario() -> TwilioError:
        async with aiohttp.ClientSession() as session:
            client = TwilioClient(session, "AC1", AUTH_TOKEN, f"http://127.0.0.1:{port}")
            with pytest.raises(TwilioError) as raised:
                await client.complete_call("CA1")
            return raised.value

    error = asyncio.run(scenario())
    assert error.status is None and error.code is None and error.retryable
    assert "request failed" in str(error)
    assert AUTH_TOKEN not in f"{error!s} {error.failure_detail}"


def test_an_answer_that_is_not_twilios_json() -> None:
    async def scenario() -> tuple[TwilioError, TwilioError]:
        async def html(request: web.Request) -> web.Response:
            status = 502 if "Calls.json" in request.path else 200
            return web.Response(status=status, text="<html>bad gateway</html>")

        app = web.Application()
        app.router.add_post("/{tail:.*}", html)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            async with aiohttp.ClientSession() as session:
                client = TwilioClient(session, "AC1", AUTH_TOKEN, base)
                with pytest.raises(TwilioError) as gateway:
                    await client.place_call(TO, FROM, twiml=TWIML, status_callback=CALLBACK)
                with pytest.raises(TwilioError) as garbled:
                    await client.complete_call("CA1")
        finally:
            await runner.cleanup()
        return gateway.value, garbled.value

    gateway, garbled = asyncio.run(scenario())
    assert (gateway.status, gateway.code, gateway.retryable) == (502, None, True)
    assert gateway.failure_detail == "twilio: answered 502"
    assert "does not parse" in str(garbled)


def test_a_call_is_completed() -> None:
    async def scenario(fake: FakeTwilio, client: TwilioClient) -> FakeTwilio:
        placed = await client.place_call(TO, FROM, twiml=TWIML, status_callback=CALLBACK)
        await client.complete_call(placed.sid)
        with pytest.raises(TwilioError) as unknown:
            await client.complete_call("CA" + "0" * 32)
        assert (unknown.value.status, unknown.value.code) == (404, 20404)
        return fake

    fake = run(scenario)
    assert fake.completed == [fake.calls[0].sid]
