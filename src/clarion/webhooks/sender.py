"""One attempt at a delivery: sign, POST, and say how it went.

Whatever goes wrong in an attempt (the receiver, the network, a URL or secret stored before a
rule refused it) becomes its Outcome, so every delivery is recorded and ends.

The secret (X-Clarion-Secret) is sent over https; over plain http only to an address inside
the operator's allowed networks, where it does not cross the open internet. Elsewhere the
delivery goes without it and the signature alone vouches for it.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from yarl import URL

from clarion.outbound.guard import BlockedAddress, Network, address_inside, check_literal
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
        """The receiver answered with a 2xx status."""
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
    """POST ``body`` to ``url`` once; any failure short of cancellation is the Outcome."""
    started = time.perf_counter()
    status = excerpt = error = None
    retry_after = None
    try:
        target, headers = await _request(signer, URL(url), body, webhook_id, secret, allowed)
        async with session.post(
            target,
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
    except Exception as exc:  # whatever it was, the attempt failed and says so
        error = _describe(exc)
    latency_ms = round((time.perf_counter() - started) * 1000)
    return Outcome(status, latency_ms, error, excerpt, retry_after)


async def _request(
    signer: Signer,
    url: URL,
    body: bytes,
    webhook_id: str,
    secret: str | None,
    allowed: Sequence[Network],
) -> tuple[URL, dict[str, str]]:
    """Where to send the delivery, and its headers, signed now."""
    check_literal(url.host or "", allowed)
    timestamp = int(time.time() * 1000)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "clarion-webhooks",
        "webhook-id": webhook_id,
        "X-Clarion-Timestamp": str(timestamp),
        "X-Clarion-Signature": signer.sign(timestamp, body),
    }
    if secret is None:
        return url, headers
    if url.scheme == "https":
        headers["X-Clarion-Secret"] = secret
        return url, headers
    inside = await address_inside(url, allowed)
    if inside is None:
        return url, headers
    # To that very address, so a different DNS answer at connect time cannot take the secret
    # elsewhere; the Host header still names the host, as it would have.
    headers["X-Clarion-Secret"] = secret
    headers["Host"] = url.host_port_subcomponent or ""
    return url.with_host(inside), headers


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait, from a Retry-After header in seconds or as an HTTP date."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        seconds = float(text)
    else:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (ValueError, OverflowError):
            return None  # unreadable: the schedule alone decides
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)  # "-0000": UTC, with no zone said
        seconds = moment.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)
