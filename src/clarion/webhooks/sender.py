"""One attempt at a delivery: sign, POST, and say how it went."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from yarl import URL

from clarion.webhooks.guard import BlockedAddress, Network, check_literal
from clarion.webhooks.signing import Signer

EXCERPT_BYTES = 2048
MAX_RETRY_AFTER_SECONDS = 36_000.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an attempt came to."""

    status_code: int | None
    latency_ms: int
    error: str | None
    excerpt: str | None
    retry_after: float | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """The receiver said 410 Gone: stop retrying at once."""
        return self.status_code == 410


async def attempt(
    session: aiohttp.ClientSession,
    signer: Signer,
    url: str,
    body: bytes,
    webhook_id: str,
    secret: str | None,
    timeout: float,
    allowed: Sequence[Network],
) -> Outcome:
    timestamp = int(time.time() * 1000)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "clarion-webhooks",
        "webhook-id": webhook_id,
        "X-Clarion-Timestamp": str(timestamp),
        "X-Clarion-Signature": signer.sign(timestamp, body),
    }
    if secret is not None:
        headers["X-Clarion-Secret"] = secret
    started = time.perf_counter()
    status = excerpt = error = None
    retry_after = None
    try:
        check_literal(URL(url).host or "", allowed)
        async with session.post(
            url,
            data=body,
            headers=headers,
            allow_redirects=False,  # a redirect is a failure: the receiver must fix its URL
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            status = response.status
            excerpt = (await response.content.read(EXCERPT_BYTES)).decode("utf-8", "replace")
            retry_after = _retry_after(response.headers.get("Retry-After"))
            if 300 <= status < 400:
                error = f"redirect to {response.headers.get('Location', '?')} not followed"
            elif not 200 <= status < 300:
                error = f"receiver answered {status}"
    except BlockedAddress as exc:
        error = str(exc)
    except aiohttp.ClientConnectorError as exc:
        error = str(exc.os_error) if isinstance(exc.os_error, BlockedAddress) else _describe(exc)
    except TimeoutError:
        error = f"no answer within {timeout:g}s"
    except (aiohttp.ClientError, asyncio.CancelledError, OSError) as exc:
        if isinstance(exc, asyncio.CancelledError):
            raise
        error = _describe(exc)
    latency_ms = round((time.perf_counter() - started) * 1000)
    return Outcome(status, latency_ms, error, excerpt, retry_after)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait, from a Retry-After header in seconds or as an HTTP date."""
    if value is None:
        return None
    if value.strip().isdigit():
        seconds = float(value.strip())
    else:
        moment = email.utils.parsedate_to_datetime(value) if value else None
        if moment is None:
            return None
        seconds = moment.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
