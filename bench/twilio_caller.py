"""Twilio's end of an inbound phone call, for the voice benchmark: the clinic's number, the
signed voice request that rings clarion, and the Media Stream messages Twilio sends.

The caller's voice goes out as Twilio's: 8 kHz μ-law, a ``media`` message per 20 ms, after
``connected`` and ``start`` (the TwiML's token as the custom parameter ``token``); ``stop``
hangs up. What the server sends (``media``, ``mark``, ``clear``) is read by the benchmark's
caller, which plays it on its own clock.
"""

from __future__ import annotations

import base64
import secrets
import xml.etree.ElementTree as ElementTree
from typing import Any

import aiohttp
import orjson

from clarion.telephony.media import (
    LINE_FRAME_BYTES,
    LINE_FRAME_MS,
    LINE_RATE,
    MULAW_SILENCE,
    mark_message,
    to_line,
)
from clarion.telephony.signature import SIGNATURE_HEADER, expected_signature

ACCOUNT_SID = "AC" + "5b1e" * 8
AUTH_TOKEN = "bench-twilio-auth-token"  # noqa: S105 - the bench number's, on loopback
CLINIC_NUMBER = "+15550100777"
VOICE_PATH = "/v1/telephony/twilio/voice"
LINE_SILENCE = bytes([MULAW_SILENCE]) * LINE_FRAME_BYTES


class NotAnswered(Exception):
    """The voice request did not connect a stream; the message says how, for the summary."""


def phone_number(assistant_id: int) -> dict[str, Any]:
    """The body that puts the clinic's number on Twilio, answered by ``assistant_id``."""
    return {
        "number": CLINIC_NUMBER,
        "provider": "twilio",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "assistant_id": assistant_id,
    }


def line_frames(pcm: bytes) -> list[bytes]:
    """16 kHz PCM as the line's 20 ms μ-law frames, the last padded with silence."""
    mulaw = to_line(pcm)
    mulaw += bytes([MULAW_SILENCE]) * (-len(mulaw) % LINE_FRAME_BYTES)
    return [mulaw[at : at + LINE_FRAME_BYTES] for at in range(0, len(mulaw), LINE_FRAME_BYTES)]


async def ring(session: aiohttp.ClientSession, base: str, call_sid: str) -> tuple[str, str]:
    """Post Twilio's voice request for a call to the clinic's number, signed over the
    server's public URL (``base``); the stream URL and token of the TwiML answer."""
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": "+1555" + str(secrets.randbelow(10**7)).zfill(7),
        "To": CLINIC_NUMBER,
    }
    url = base + VOICE_PATH
    headers = {SIGNATURE_HEADER: expected_signature(AUTH_TOKEN, url, params)}
    async with session.post(url, data=params, headers=headers) as response:
        if response.status != 200:
            raise NotAnswered(f"voice request: HTTP {response.status}")
        twiml = await response.text()
    stream = ElementTree.fromstring(twiml).find("./Connect/Stream")  # noqa: S314 - our server
    if stream is None:
        raise NotAnswered("voice request: not connected to a stream")
    tokens = [p.get("value") for p in stream.iter("Parameter") if p.get("name") == "token"]
    stream_url, token = stream.get("url"), next(iter(tokens), None)
    if not stream_url or not token:
        raise NotAnswered("voice request: a stream without its URL or token")
    return stream_url, token


class StreamMessages:
    """The messages Twilio sends on one call's stream, numbered as Twilio numbers them."""

    def __init__(self, call_sid: str) -> None:
        self.call_sid = call_sid
        self.stream_sid = "MZ" + secrets.token_hex(16)
        self._sequence = 0
        self._chunk = 0

    def connected(self) -> str:
        return _json({"event": "connected", "protocol": "Call", "version": "1.0.0"})

    def start(self, token: str) -> str:
        start = {
            "accountSid": ACCOUNT_SID,
            "streamSid": self.stream_sid,
            "callSid": self.call_sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": LINE_RATE, "channels": 1},
            "customParameters": {"token": token},
        }
        return self._numbered({"event": "start", "start": start})

    def media(self, frame: bytes) -> str:
        """The caller's next 20 ms (160 μ-law bytes)."""
        self._chunk += 1
        media = {
            "track": "inbound",
            "chunk": str(self._chunk),
            "timestamp": str(self._chunk * LINE_FRAME_MS),
            "payload": base64.b64encode(frame).decode("ascii"),
        }
        return self._numbered({"event": "media", "media": media})

    def mark(self, name: str) -> str:
        """The echo of the server's mark ``name``: the audio before it has played."""
        self._sequence += 1
        document = orjson.loads(mark_message(self.stream_sid, name))
        return _json({"sequenceNumber": str(self._sequence), **document})

    def stop(self) -> str:
        stop = {"accountSid": ACCOUNT_SID, "callSid": self.call_sid}
        return self._numbered({"event": "stop", "stop": stop})

    def _numbered(self, document: dict[str, Any]) -> str:
        self._sequence += 1
        return _json(
            {"sequenceNumber": str(self._sequence), **document, "streamSid": self.stream_sid}
        )


def media_frames(document: dict[str, Any]) -> int:
    """How many 20 ms frames a server's ``media`` message carries (a part counts as one)."""
    payload = (document.get("media") or {}).get("payload")
    if not isinstance(payload, str):
        return 0
    return -(-len(base64.b64decode(payload)) // LINE_FRAME_BYTES)


def _json(document: dict[str, Any]) -> str:
    return orjson.dumps(document).decode()
