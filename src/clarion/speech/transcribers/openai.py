"""OpenAI's transcriptions endpoint, and every Whisper server that speaks the same API.

One request per utterance, made at its end: a multipart POST of the utterance as a WAV file to
``{base_url}/audio/transcriptions``, answered ``{"text": ...}``. The base URL includes the API
version (``https://api.openai.com/v1``), as for the language models, so a self-hosted Whisper
server is used by giving its own.
"""

from __future__ import annotations

import asyncio

import aiohttp
import orjson

from clarion.providers.endpoint import endpoint_url
from clarion.providers.errors import retryable_status
from clarion.speech.audio import wav
from clarion.speech.errors import SpeechError
from clarion.speech.transcriber import Interim
from clarion.speech.transcribers.utterance import UtteranceAudio

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "whisper-1"
TIMEOUT_SECONDS = 30.0
MAX_ANSWER_BYTES = 1024 * 1024

PROVIDER = "openai"


class OpenAITranscriber:
    """One call's transcriber over OpenAI's API; it gives no interim words."""

    name = PROVIDER

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        model: str | None = None,
        language: str | None = None,
        *,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._session = session
        self._url = endpoint_url(base_url, "audio/transcriptions")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._model = model or DEFAULT_MODEL
        self._language = language
        self._timeout = timeout
        self._audio = UtteranceAudio()
        self._hearing = False

    async def open(self, interim: Interim) -> None:
        """Nothing to connect: each utterance is a request of its own."""

    def begin(self) -> None:
        """An utterance begins: keep its audio from here."""
        self._audio.clear()
        self._hearing = True

    def feed(self, pcm: bytes) -> None:
        """More of the utterance."""
        if self._hearing:
            self._audio.add(pcm)

    def pause(self) -> None:
        """Nothing to do early: each request is paid for, so it waits for the turn's end."""

    async def finish(self) -> str:
        """The utterance's words, asked for once more if the first request may have met a
        passing fault (a rate limit, the provider's own error, the network)."""
        pcm = self._audio.pcm
        self._audio.clear()
        self._hearing = False
        if not pcm:
            return ""
        file = wav(pcm)
        try:
            return await self._transcribe(file)
        except SpeechError as exc:
            if not exc.retryable:
                raise
        return await self._transcribe(file)

    def discard(self) -> None:
        """Forget the utterance."""
        self._audio.clear()
        self._hearing = False

    async def close(self) -> None:
        """Nothing of the call's own to release: requests go over the shared session."""
        self.discard()

    async def _transcribe(self, file: bytes) -> str:
        try:
            return await self._ask(file)
        except SpeechError as error:
            error.at(self._url.host)
            raise

    async def _ask(self, file: bytes) -> str:
        form = aiohttp.FormData()
        form.add_field("file", file, filename="utterance.wav", content_type="audio/wav")
        form.add_field("model", self._model)
        if self._language:
            form.add_field("language", self._language)
        form.add_field("response_format", "json")
        try:
            async with asyncio.timeout(self._timeout):
                async with self._session.post(
                    self._url,
                    data=form,
                    headers=self._headers,
                    allow_redirects=False,
                    raise_for_status=False,
                ) as response:
                    status = response.status
                    body = await response.content.read(MAX_ANSWER_BYTES + 1)
        except TimeoutError:
            raise SpeechError(
                PROVIDER, f"no answer within {self._timeout:g}s", retryable=True
            ) from None
        except aiohttp.ClientError as exc:
            raise SpeechError(
                PROVIDER, f"connection failed: {type(exc).__name__}", retryable=True
            ) from exc
        if not 200 <= status < 300:
            # The error body is not read into the error: it may quote the request.
            raise SpeechError(
                PROVIDER, f"answered {status}", retryable=retryable_status(status), status=status
            )
        return _text(body)


def _text(body: bytes) -> str:
    """The words of a transcription answer; anything else is the provider's fault."""
    if len(body) > MAX_ANSWER_BYTES:
        raise SpeechError(PROVIDER, "the answer is too long to be an utterance's", retryable=False)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise SpeechError(PROVIDER, "sent JSON that does not parse", retryable=False) from None
    text = document.get("text") if isinstance(document, dict) else None
    if not isinstance(text, str):
        raise SpeechError(PROVIDER, "sent an answer without its text", retryable=False)
    return text.strip()
