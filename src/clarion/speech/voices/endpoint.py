"""One voice provider's speech endpoint, reached over the caller's shared aiohttp session.

Both hosted voices stream raw PCM back as the body of one POST, so asking, waiting, retrying
and mapping failures live here once. A failure becomes a
:class:`~clarion.speech.errors.SpeechError` that names the HTTP status or the kind of network
failure, never the provider's own words (its error body may quote the text being spoken) and
never the key.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from typing import Any

import aiohttp
import orjson
from yarl import URL

from clarion.providers.errors import retryable_status
from clarion.speech.audio import Resampler
from clarion.speech.errors import SpeechError

DEFAULT_IDLE_SECONDS = 10.0
READ_BYTES = 8192

# Bodies that are not audio, whatever the status said: an error page from a proxy, say.
_NOT_AUDIO = ("text/", "application/json")
# The session's own bounds are set aside: ``idle_seconds`` bounds every wait instead.
_NO_SESSION_TIMEOUT = aiohttp.ClientTimeout(total=None)


class AudioEndpoint:
    """POSTs JSON to one URL and streams the PCM answer back at the line's rate.

    ``idle_seconds`` bounds connecting, the wait for the first byte and every wait for the
    next: a long answer is never cut off while audio keeps coming. A retryable failure before
    any audio is tried once more; after audio has gone out it is raised, since the person has
    already heard the start.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        provider: str,
        url: URL,
        headers: Mapping[str, str],
        rate: int,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        self._session = session
        self._provider = provider
        self._url = url
        self._headers = {"Content-Type": "application/json", **headers}
        self._rate = rate
        self._idle_seconds = idle_seconds

    async def speak(self, body: Mapping[str, Any]) -> AsyncGenerator[bytes, None]:
        """The answer to ``body``: 16-bit mono PCM at 16,000 Hz, as it arrives."""
        for attempt in (1, 2):
            resampler = Resampler(self._rate)  # a failed attempt's half-filtered audio is dropped
            heard = False
            try:
                # aclosing: a reader that stops here hangs up now, not when the answer is
                # collected.
                async with aclosing(self._answer(body)) as chunks:
                    async for chunk in chunks:
                        audio = resampler.feed(chunk)
                        if audio:
                            heard = True
                            yield audio
                tail = resampler.feed(b"", last=True)
                if not heard and not tail:
                    raise SpeechError(self._provider, "sent no audio", retryable=True)
                if tail:
                    yield tail
                return
            except SpeechError as error:
                if heard or not error.retryable or attempt == 2:
                    error.at(self._url.host)
                    raise

    async def _answer(self, body: Mapping[str, Any]) -> AsyncGenerator[bytes, None]:
        """The answer's body in chunks as they arrive; the connection is closed at once when
        the reader stops early (the person spoke over the assistant)."""
        try:
            # The clock runs only while waiting on the provider, never while the reader
            # holds a chunk (a line plays audio out no faster than it is spoken).
            async with asyncio.timeout(self._idle_seconds):
                response = await self._session.post(
                    self._url,
                    data=orjson.dumps(body),
                    headers=self._headers,
                    timeout=_NO_SESSION_TIMEOUT,
                    allow_redirects=False,
                    raise_for_status=False,
                )
            async with response:
                self._check(response)
                whole = False
                try:
                    while True:
                        async with asyncio.timeout(self._idle_seconds):
                            chunk = await response.content.read(READ_BYTES)
                        if not chunk:
                            break
                        yield chunk
                    whole = True
                finally:
                    if not whole:
                        response.close()  # not kept for reuse: its body was not all read
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._transport_error(exc) from exc

    def _check(self, response: aiohttp.ClientResponse) -> None:
        if not 200 <= response.status < 300:
            raise SpeechError(
                self._provider,
                f"answered {response.status}",
                retryable=retryable_status(response.status),
                status=response.status,
            )
        if response.content_type.startswith(_NOT_AUDIO):
            raise SpeechError(
                self._provider, f"answered {response.content_type}, not audio", retryable=False
            )

    def _transport_error(self, exc: BaseException) -> SpeechError:
        if isinstance(exc, TimeoutError):
            description = f"sent no audio for {self._idle_seconds:g}s"
        elif isinstance(exc, aiohttp.ClientPayloadError):
            description = "the audio was cut off"
        elif isinstance(exc, aiohttp.ClientConnectionError):
            description = f"connection failed: {type(exc).__name__}"
        else:
            return SpeechError(
                self._provider, f"request failed: {type(exc).__name__}", retryable=False
            )
        return SpeechError(self._provider, description, retryable=True)


async def no_audio() -> AsyncGenerator[bytes, None]:
    """What blank text sounds like, without asking anyone (a provider refuses it)."""
    return
    yield
