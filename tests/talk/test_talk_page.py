"""The talk page in a real browser: headless Chromium, its microphone a WAV file of espeak-ng
speech, joins a web call on a served clarion, hears the assistant and is heard.

Debian's Chromium, driven by Playwright; the test never downloads a browser. Without
/usr/bin/chromium the browser tests skip, unless CLARION_REQUIRE_BROWSER=1 (CI) says the
browser must be there.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from call_socket import call_socket
from fastapi.testclient import TestClient
from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
from talk_microphone import speech_wav

from browser_support import CHROMIUM, CHROMIUM_ARGS, require_chromium
from clarion.app import create_app
from clarion.config import Settings
from clarion.speech.audio import FRAME_BYTES, SAMPLE_RATE
from clarion.urls import page_url
from fake_providers import FakeProviders, Reply
from served import clarion_serving, web_call_on
from support import Tenant, worker_env
from voice_support import spoken as espeak_pcm
from webhook_receiver import Receiver

SENTENCE = "I would like to book an appointment for tomorrow morning"
ANSWER = "Tomorrow at nine works. See you then."
FIRST_MESSAGE = "Hello, this is Northside Clinic."

Browse = Callable[[Path | None], BrowserContext]


@pytest.fixture
def browse(tmp_path: Path) -> Iterator[Browse]:
    """Opens headless Chromium with a fresh profile, its microphone the given WAV file (or
    Chromium's own fake tone)."""
    require_chromium("the talk page's browser tests")
    with sync_playwright() as playwright:
        opened: list[BrowserContext] = []

        def open_browser(microphone: Path | None) -> BrowserContext:
            args = [
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
            ]
            if microphone is not None:
                args.append(f"--use-file-for-fake-audio-capture={microphone}")
            context = playwright.chromium.launch_persistent_context(
                tmp_path / f"profile-{len(opened)}",
                executable_path=CHROMIUM,
                headless=True,
                args=args,
                viewport={"width": 900, "height": 760},
            )
            opened.append(context)
            return context

        yield open_browser
        for context in opened:
            context.close()


def _page(context: BrowserContext) -> Page:
    page = context.pages[0] if context.pages else context.new_page()
    page.set_default_timeout(20_000)
    return page


def _served_env(settings: Settings) -> dict[str, str]:
    return worker_env(settings, CLARION_LOG_FORMAT="text")


def _call(base: str, tenant: Tenant, call_id: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {tenant.api_key}"}
    found: dict[str, Any] = httpx.get(f"{base}/v1/call/{call_id}", headers=headers).json()
    return found


def _ended(base: str, tenant: Tenant, call_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while (call := _call(base, tenant, call_id))["call_status"] != "ended":
        assert time.monotonic() < deadline, call
        time.sleep(0.1)
    return call


def test_the_page_and_its_assets_are_served_from_clarion_with_headers_that_keep_the_call_private(
    client: TestClient,
) -> None:
    page = client.get("/talk")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    # The call's socket is on this server (or at its public URL): no other host hears.
    assert "connect-src 'self';" in policy
    assert "unsafe" not in policy
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    # Everything the page loads comes from this server.
    linked = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert linked and all(link.startswith("/talk/") for link in linked), linked
    for asset, media_type in [
        ("talk.js", "text/javascript"),
        ("talk-worklet.js", "text/javascript"),
        ("talk.css", "text/css"),
    ]:
        served = client.get(f"/talk/{asset}")
        assert served.status_code == 200
        assert served.headers["content-type"].startswith(media_type)
        assert served.headers["content-security-policy"] == policy
        assert served.headers["x-content-type-options"] == "nosniff"
    for path in ("/talk/nothing.js", "/talk/talk.html", "/talking"):
        missing = client.get(path)
        assert missing.status_code == 404
        assert missing.json() == {"error": 404, "message": f"no route for GET {path}"}
    assert not [path for path in client.get("/openapi.json").json()["paths"] if "talk" in path]


def test_without_a_call_url_the_page_says_what_to_open(
    served: Any, tenant: Tenant, browse: Browse
) -> None:
    base = served(tenant).serving.base
    page = _page(browse(None))
    page.goto(f"{base}/talk")
    expect(page.locator("#notice")).to_contain_text("There is no call to join")
    expect(page.locator("#start")).to_be_disabled()
    page.evaluate("location.hash = 'https://clinic.example/v1/call/1/web?token=t'")
    expect(page.locator("#notice")).to_contain_text("must start with ws:// or wss://")
    expect(page.locator("#start")).to_be_disabled()
    page.evaluate("location.hash = 'ws://127.0.0.1:9/v1/call/1/web?token=t'")
    expect(page.locator("#notice")).to_be_hidden()
    expect(page.locator("#start")).to_be_enabled()


RESAMPLED_TONE = """([fromRate, toRate, hertz]) => {
    // A second of a tone, fed in blocks of 128 samples as the audio thread does; the power
    // of what comes out, and the share of it that is not the tone itself.
    const resampler = new Resampler(fromRate, toRate);
    const input = new Float32Array(fromRate);
    for (let i = 0; i < input.length; i++) {
        input[i] = 0.5 * Math.sin(2 * Math.PI * hertz * i / fromRate);
    }
    const pieces = [];
    for (let i = 0; i < input.length; i += 128) {
        pieces.push(...resampler.push(input.subarray(i, i + 128)));
    }
    const out = pieces.slice(200, pieces.length - 200);  // past the edges' ramps
    let power = 0, sin = 0, cos = 0;
    out.forEach((y, n) => {
        const phase = 2 * Math.PI * hertz * (n + 200) / toRate;
        power += y * y; sin += y * Math.sin(phase); cos += y * Math.cos(phase);
    });
    power /= out.length;
    const tone = 2 * (sin * sin + cos * cos) / (out.length * out.length);
    return {count: pieces.length, power, rest: Math.max(0, power - tone) / Math.max(power, 1e-12)};
}"""


def test_the_worklet_resamples_speech_cleanly_both_ways(
    served: Any, tenant: Tenant, browse: Browse
) -> None:
    base = served(tenant).serving.base
    page = _page(browse(None))
    page.goto(f"{base}/talk")
    page.add_script_tag(url="/talk/talk-worklet.js")
    tone_power = 0.5**2 / 2
    for rate in (48_000, 44_100):
        # Down to the call's rate: a voice's tone comes through whole...
        kept = page.evaluate(RESAMPLED_TONE, [rate, 16_000, 1000])
        assert abs(kept["count"] - 16_000) <= 40
        assert kept["power"] == pytest.approx(tone_power, rel=0.02)
        assert kept["rest"] < 1e-4
        # ...and what 16 kHz cannot hold is filtered out, not folded back as a false tone
        # (dropping samples would keep all of this one, heard at 4 kHz or 1.9 kHz).
        removed = page.evaluate(RESAMPLED_TONE, [rate, 16_000, 12_000])
        assert removed["power"] < tone_power * 1e-3
        # Up to the speaker's rate: the tone without the images of its samples.
        played = page.evaluate(RESAMPLED_TONE, [16_000, rate, 1000])
        assert abs(played["count"] - rate) <= 40
        assert played["power"] == pytest.approx(tone_power, rel=0.02)
        assert played["rest"] < 1e-4


def _similarity(sent: bytes, spoken: bytes) -> float:
    """How closely ``sent`` holds ``spoken`` somewhere in it: the normalized correlation of
    the two waveforms at the offset where they match best (1 is the same sound)."""
    heard = np.frombuffer(sent, dtype="<i2").astype(float)
    said = np.frombuffer(spoken, dtype="<i2").astype(float)
    size = 1 << (len(heard) + len(said)).bit_length()
    product = np.fft.rfft(heard, size) * np.fft.rfft(said[::-1], size)
    start = int(np.argmax(np.fft.irfft(product, size)[: len(heard) + len(said)])) - len(said) + 1
    match = heard[max(start, 0) : start + len(said)]
    said = said[max(-start, 0) : max(-start, 0) + len(match)]
    return float(np.dot(match, said) / np.sqrt(np.dot(match, match) * np.dot(said, said) + 1))


def _tone(seconds: float, hertz: float = 440.0) -> bytes:
    times = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return bytes((0.3 * 32767 * np.sin(2 * np.pi * hertz * times)).astype("<i2").tobytes())


def test_the_page_speaks_the_voice_protocol_microphone_out_voice_in_text_as_it_comes(
    served: Any, tenant: Tenant, browse: Browse, tmp_path: Path
) -> None:
    spoken = espeak_pcm(SENTENCE)
    microphone = tmp_path / "microphone.wav"
    speech_wav(microphone, SENTENCE, before_s=1, after_s=8)
    with call_socket() as call:
        # The stand-in call is at the server's public URL: the one other place the page's
        # policy lets it connect to.
        base = served(tenant, public_url=page_url(call.url.split("/v1/")[0])).serving.base
        page = _page(browse(microphone))
        page.goto(f"{base}/talk#{call.url}")
        page.click("#start")
        assert call.joined.wait(20)
        assert call.path == "/v1/call/1/web?token=test-token&audio=pcm16"
        call.send({"type": "call-started", "call_id": 1})
        expect(page.locator("#status")).to_have_text("In call")

        # The assistant's words as they come, then the turn as it was heard.
        call.send({"type": "assistant-delta", "text": "Tomorrow at "})
        call.send({"type": "assistant-delta", "text": "nine works."})
        said = page.locator("#transcript .turn.assistant .text")
        expect(said).to_have_text("Tomorrow at nine works.")
        call.send({"type": "assistant-message", "text": "Tomorrow at"})
        expect(said).to_have_text("Tomorrow at")
        # The person's words: greyed while heard, then replaced by the final ones.
        call.send({"type": "user-transcript", "text": "I would", "final": False})
        expect(page.locator("#transcript .turn.user.interim .text")).to_have_text("I would")
        call.send({"type": "user-transcript", "text": "I would like that", "final": True})
        heard = page.locator("#transcript .turn.user .text")
        expect(heard).to_have_text(["I would like that"])
        expect(page.locator("#transcript .turn.interim")).to_have_count(0)

        # Three seconds of the voice at once; clear drops what has not played yet.
        voice = _tone(3.0)
        for start in range(0, len(voice), FRAME_BYTES):
            call.send(voice[start : start + FRAME_BYTES])
        page.wait_for_function("() => window.clarionTalk.playedSeconds > 0.2")
        call.send({"type": "clear"})
        page.wait_for_timeout(3000)
        counters = page.evaluate("window.clarionTalk")
        assert counters["receivedFrames"] == len(voice) // FRAME_BYTES
        assert 0.2 < counters["playedSeconds"] < 1.5

        call.send({"type": "error", "message": "audio: frames are 16-bit samples"})
        expect(page.locator("#notice")).to_have_text("audio: frames are 16-bit samples")
        page.fill("#message", "Can I come at ten?")
        page.press("#message", "Enter")
        typed = call.wait_for_text("user-message")
        assert typed == {"type": "user-message", "text": "Can I come at ten?"}

        # The microphone went out as 20 ms frames of 16 kHz PCM: the sentence is in them.
        page.wait_for_function(f"() => window.clarionTalk.sentFrames >= {6 * 50}")
        page.click("#hangup")
        assert call.wait_for_text("hangup") == {"type": "hangup"}
        call.send({"type": "call-ended", "ended_reason": "customer-ended"})
        call.close()
        expect(page.locator("#status")).to_have_text("Ended: customer-ended")
        expect(page.locator("#hangup")).to_be_disabled()
    assert {len(frame) for frame in call.audio} == {FRAME_BYTES}
    similarity = _similarity(b"".join(call.audio), spoken)
    assert similarity > 0.5, similarity


def test_a_call_joined_for_typing_only_takes_typed_messages_and_ends_on_end_call(
    served: Any, tenant: Tenant, fake: FakeProviders, receiver: Receiver, browse: Browse
) -> None:
    api = served(tenant)
    fake.script = lambda _request: Reply(ANSWER)
    call = web_call_on(api.serving.base, tenant, fake, receiver)
    page = _page(browse(None))
    page.goto(f"{api.serving.base}/talk?mode=text#{call['web_call_url']}")
    page.click("#start")
    transcript = page.locator("#transcript")
    expect(transcript).to_contain_text(FIRST_MESSAGE)
    expect(page.locator("#status")).to_have_text("In call")
    page.fill("#message", "Can I come tomorrow?")
    page.click("#send")
    expect(transcript.locator(".turn.user .text")).to_have_text("Can I come tomorrow?")
    expect(transcript.locator(".turn.assistant").nth(1)).to_contain_text(ANSWER)
    page.click("#hangup")
    expect(page.locator("#status")).to_have_text("Ended: customer-ended")
    expect(page.locator("#send")).to_be_disabled()
    ended = _ended(api.serving.base, tenant, call["id"])
    assert ended["ended_reason"] == "customer-ended"
    assert [m["message"] for m in ended["messages"]] == [
        FIRST_MESSAGE,
        "Can I come tomorrow?",
        ANSWER,
    ]


def test_a_spoken_call_in_the_browser_is_heard_answered_and_ended(
    settings: Settings,
    tenant: Tenant,
    fake: FakeProviders,
    receiver: Receiver,
    browse: Browse,
    tmp_path: Path,
) -> None:
    # Silence first, while the first message plays; then the sentence; then silence long
    # enough for the answer before Chromium plays the file again.
    microphone = speech_wav(tmp_path / "microphone.wav", SENTENCE, before_s=4, after_s=12)
    screenshots = tmp_path / "screenshots"
    screenshots.mkdir()
    fake.script = lambda _request: Reply(ANSWER)
    with clarion_serving(_served_env(settings)) as server:
        call = web_call_on(server.base, tenant, fake, receiver)
        page = _page(browse(microphone))
        page.goto(f"{server.base}/talk#{call['web_call_url']}")
        expect(page.locator("#start")).to_be_enabled()
        page.screenshot(path=screenshots / "before.png")
        page.click("#start")
        transcript = page.locator("#transcript")
        expect(transcript).to_contain_text(FIRST_MESSAGE)
        heard = transcript.locator(".turn.user:not(.interim) .text").first
        expect(heard).to_have_text(re.compile(r"\w"), timeout=60_000)
        # Its message, once its audio has played (the captions come before).
        answered = transcript.locator(".turn.assistant:not(.speaking)").nth(1)
        expect(answered).to_contain_text(ANSWER, timeout=30_000)
        page.wait_for_function("() => window.clarionTalk.playedSeconds > 1")
        page.screenshot(path=screenshots / "during.png")
        counters = page.evaluate("window.clarionTalk")
        assert counters["sentFrames"] > 0
        assert counters["receivedFrames"] > 0
        page.click("#hangup")
        expect(page.locator("#status")).to_have_text("Ended: customer-ended")
        page.screenshot(path=screenshots / "after.png")
        ended = _ended(server.base, tenant, call["id"])
    assert ended["ended_reason"] == "customer-ended"
    roles = [m["role"] for m in ended["messages"]]
    assert "user" in roles and "assistant" in roles
    said = [m["message"] for m in ended["messages"] if m["role"] == "user"]
    assert said and all(said)
    assert ANSWER in [m["message"] for m in ended["messages"] if m["role"] == "assistant"]


def test_behind_a_public_url_the_page_may_reach_it_and_still_no_other_host(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"public_url": "https://clarion.clinic.example"}))
    with TestClient(app) as client:
        policy = client.get("/talk").headers["content-security-policy"]
    assert "connect-src 'self' wss://clarion.clinic.example;" in policy
