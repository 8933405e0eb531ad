"""OpenAI text to speech, streamed as PCM and resampled to the line's rate.

``POST {base_url}/audio/speech`` with the key as a bearer token; the base URL includes the API
version, as for the language models (``https://api.openai.com/v1``). ``pcm`` is OpenAI's raw
format: 16-bit mono at 24,000 Hz, resampled here as it streams.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import aiohttp

from clarion.providers.endpoint import endpoint_url
from clarion.providers.openai import DEFAULT_BASE_URL
from clarion.speech.voices.endpoint import DEFAULT_IDLE_SECONDS, AudioEndpoint, no_audio

DEFAULT_MODEL = "gpt-4o-mini-tts"
DEFAULT_VOICE = "alloy"
PCM_RATE = 24_000


class OpenAIVoice:
    """One of OpenAI's voices (``voice``, ``alloy`` when none is given) with ``model``."""

    name = "openai"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        base_url: str | None,
        voice: str | None,
        model: str | None,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        self._voice = voice or DEFAULT_VOICE
        self._model = model or DEFAULT_MODEL
        self._endpoint = AudioEndpoint(
            session,
            self.name,
            endpoint_url(base_url or DEFAULT_BASE_URL, "audio/speech"),
            {"Authorization": f"Bearer {api_key}"},
            PCM_RATE,
            idle_seconds,
        )

    def synthesize(self, text: str) -> AsyncGenerator[bytes, None]:
        """``text`` spoken, as 16-bit mono PCM at 16,000 Hz in chunks as they arrive."""
        if not text.strip():
            return no_audio()
        body = {"model": self._model, "input": text, "voice": self._voice, "response_format": "pcm"}
        return self._endpoint.speak(body)
