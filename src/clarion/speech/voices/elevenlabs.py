"""ElevenLabs text to speech, streamed as 16 kHz PCM.

``POST {base_url}/v1/text-to-speech/{voice_id}/stream?output_format=pcm_16000`` with the key in
``xi-api-key``: the body is raw 16-bit mono PCM at the line's own rate, streamed as it is made,
so it goes out untouched.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from urllib.parse import quote

import aiohttp

from clarion.providers.endpoint import endpoint_url
from clarion.speech.audio import SAMPLE_RATE
from clarion.speech.voices.endpoint import DEFAULT_IDLE_SECONDS, AudioEndpoint, no_audio

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
DEFAULT_MODEL = "eleven_flash_v2_5"  # their lowest-latency model


class ElevenLabsVoice:
    """One ElevenLabs voice (``voice_id``) speaking with ``model_id``."""

    name = "11labs"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        base_url: str | None,
        voice_id: str,
        model_id: str | None,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        path = f"v1/text-to-speech/{quote(voice_id, safe='')}/stream"
        url = endpoint_url(base_url or DEFAULT_BASE_URL, path)
        self._model = model_id or DEFAULT_MODEL
        self._endpoint = AudioEndpoint(
            session,
            self.name,
            url.update_query(output_format=f"pcm_{SAMPLE_RATE}"),
            {"xi-api-key": api_key},
            SAMPLE_RATE,
            idle_seconds,
        )

    def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        """``text`` spoken, as 16-bit mono PCM at 16,000 Hz in chunks as they arrive."""
        if not text.strip():
            return no_audio()
        return self._endpoint.speak({"text": text, "model_id": self._model})
