"""One provider endpoint reached over the caller's shared aiohttp session.

Both adapters send their requests through here, so a non-2xx answer, a timeout, a lost
connection and a body that is not what was asked for become the same :class:`ProviderError`
whichever provider it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import orjson
from yarl import URL

from clarion.providers.errors import (
    ERROR_BODY_BYTES,
    ProviderError,
    error_from_answer,
    error_in_stream,
)
from clarion.providers.limits import DEFAULT_IDLE_SECONDS, MAX_ANSWER_BYTES, ReplyLimits
from clarion.providers.provider import DEFAULT_TIMEOUT_SECONDS
from clarion.providers.sse import MalformedStream, ServerSentEvent, read_events

# How long a finished stream may take to end its body before its connection is given up.
DRAIN_SECONDS = 0.5


def endpoint_url(base_url: str, path: str) -> URL:
    """``path`` under ``base_url``, joined as the official SDKs join them: the base keeps its
    own path (``/v1`` for OpenAI-compatible servers) and query, a trailing slash or not."""
    base = URL(base_url)
    return base.with_path(base.path.rstrip("/") + "/" + path, keep_query=True)


class Endpoint:
    """POSTs JSON to one URL with fixed headers, and maps every failure to ProviderError.

    ``timeout`` bounds connecting and every wait for more of the answer, not the whole
    reply: a long reply that keeps streaming is not cut off, as long as it keeps adding to
    the reply (``idle_seconds``, :class:`~clarion.providers.limits.ReplyLimits`).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        provider: str,
        url: URL,
        headers: Mapping[str, str],
        api_key: str,
        timeout: float,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        self.provider = provider
        self.idle_seconds = idle_seconds
        self._session = session
        self._url = url
        self._headers = {"Content-Type": "application/json", **headers}
        self._api_key = api_key
        self._timeout = timeout
        self._client_timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)

    def limits(self) -> ReplyLimits:
        """The bounds of one reply from this endpoint."""
        return ReplyLimits(self.provider, self.idle_seconds)

    @asynccontextmanager
    async def events(
        self, body: dict[str, Any], limits: ReplyLimits
    ) -> AsyncIterator[AsyncIterator[ServerSentEvent]]:
        """POST ``body`` and read the answer as an event stream, failed once it goes
        ``limits.idle_seconds`` without adding to the reply."""
        try:
            async with AsyncExitStack() as stack:
                async with limits.awaiting():  # the wait for the answer counts as idle too
                    response = await stack.enter_async_context(self._post(body))
                await self._check(response)
                kind = response.content_type
                if kind != "text/event-stream":
                    raise ProviderError(
                        self.provider, f"answered {kind}, not an event stream", retryable=False
                    )
                stream = read_events(response.content)
                watched = limits.watch(stream)
                try:
                    yield watched
                finally:
                    await watched.aclose()  # type: ignore[attr-defined]
                    await stream.aclose()
                await _drain(response)
        except MalformedStream as exc:
            raise ProviderError(self.provider, str(exc), retryable=False).at(
                self._url.host
            ) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._transport_error(exc) from exc
        except ProviderError as error:
            error.at(self._url.host)
            raise

    async def answer(self, body: dict[str, Any]) -> Any:
        """POST ``body`` and return the answer's JSON document, decoded."""
        try:
            async with self._post(body) as response:
                await self._check(response)
                content = await _read_at_most(response.content, MAX_ANSWER_BYTES)
                if len(content) > MAX_ANSWER_BYTES:
                    raise ProviderError(
                        self.provider,
                        f"the answer ran past {MAX_ANSWER_BYTES} bytes",
                        retryable=True,
                    )
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._transport_error(exc) from exc
        except ProviderError as error:
            error.at(self._url.host)
            raise
        return self.decode(content)

    def decode(self, data: bytes) -> Any:
        """A JSON document the provider sent; one that does not parse is a ProviderError."""
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            # from None: the decode error keeps the whole document, patient words and all
            raise ProviderError(
                self.provider, "sent JSON that does not parse", retryable=False
            ) from None

    def error_in_stream(self, event: Mapping[str, Any]) -> ProviderError:
        """The error for an error object the provider sent in the middle of a stream."""
        return error_in_stream(self.provider, event, self._api_key)

    def _post(self, body: dict[str, Any]) -> AbstractAsyncContextManager[aiohttp.ClientResponse]:
        return self._session.post(
            self._url,
            data=orjson.dumps(body, default=_plain),
            headers=self._headers,
            timeout=self._client_timeout,
            allow_redirects=False,  # a provider that redirects is misconfigured, not followed
            raise_for_status=False,  # whatever the session says: the error body is read here
        )

    async def _check(self, response: aiohttp.ClientResponse) -> None:
        if 200 <= response.status < 300:
            return
        body = (await _read_at_most(response.content, ERROR_BODY_BYTES))[:ERROR_BODY_BYTES]
        raise error_from_answer(
            self.provider, response.status, response.headers, body, self._api_key
        )

    def _transport_error(self, exc: BaseException) -> ProviderError:
        if isinstance(exc, TimeoutError):
            description = f"no answer within {self._timeout:g}s"
        elif isinstance(exc, aiohttp.ClientPayloadError):
            description = "the answer was cut off"
        elif isinstance(exc, aiohttp.ClientConnectionError):
            description = f"connection failed: {type(exc).__name__}: {exc}"[:300]
        else:
            return ProviderError(
                self.provider, f"request failed: {type(exc).__name__}", retryable=False
            ).at(self._url.host)
        return ProviderError(self.provider, description, retryable=True).at(self._url.host)


async def _read_at_most(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The body up to ``limit`` bytes, and one byte more when it holds more: the rest is
    never read into memory."""
    body = bytearray()
    while len(body) <= limit:
        piece = await content.read(limit + 1 - len(body))
        if not piece:
            break
        body += piece
    return bytes(body)


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read the little that follows the last event (the body's closing chunk): a response
    released with bytes unread takes its connection with it, and the next request to the
    provider would pay for a new TLS handshake."""
    if response.content.is_eof():
        return
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while await response.content.readany():
                pass
    except (TimeoutError, aiohttp.ClientError):
        pass  # the reply is whole; only this connection is not kept


def _plain(value: object) -> object:
    """What orjson cannot encode itself: read-only mappings (a tool's schema, say)."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


class HTTPProvider:
    """What every adapter shares: its endpoint, on the caller's session, built from the key."""

    name: str
    path: str
    """The operation's path below the base URL."""
    default_base_url: str

    def __init__(
        self,
        session: aiohttp.ClientSession,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
    ) -> None:
        url = endpoint_url(base_url or self.default_base_url, self.path)
        self._endpoint = Endpoint(
            session, self.name, url, self.headers(api_key), api_key, timeout, idle_seconds
        )

    def headers(self, api_key: str) -> dict[str, str]:
        """The headers that carry the API key (and anything else every request needs)."""
        raise NotImplementedError
