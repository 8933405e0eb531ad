"""The part of Twilio's REST API clarion uses: placing a call and ending it.

Requests go to ``{api_base}/2010-04-01/Accounts/{AccountSid}/Calls.json`` over the caller's
session, form-encoded, with the account SID and auth token as basic auth. The token goes in
that header and nowhere else: never in a URL, a log line or an error.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
import orjson

DEFAULT_API_BASE = "https://api.twilio.com"
DEFAULT_TIMEOUT_SECONDS = 15.0
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
MESSAGE_CHARS = 200
_ERROR_BODY_BYTES = 64 * 1024


class TwilioError(Exception):
    """A request to Twilio failed.

    ``status`` is the HTTP status when Twilio answered, ``code`` and ``message`` Twilio's own
    error code and (trimmed) message. The exception's text names only the status and code;
    :attr:`failure_detail` adds Twilio's message, for the call's record. ``retryable`` holds
    for rate limits, Twilio's own faults and the network.
    """

    def __init__(
        self,
        status: int | None,
        code: int | None,
        message: str | None,
        *,
        description: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.retryable = status is None or status == 429 or status >= 500
        if description is None:
            description = f"answered {status}" + (f" with error {code}" if code else "")
        super().__init__(f"twilio: {description}")

    @property
    def failure_detail(self) -> str:
        """What to keep on the call: Twilio's code and message when it gave them."""
        if self.code is not None and self.message:
            return f"Twilio error {self.code}: {self.message}"
        if self.code is not None:
            return f"Twilio error {self.code}"
        return str(self)


@dataclass(frozen=True)
class PlacedCall:
    """A call Twilio accepted: its SID and status (``queued``, as a rule)."""

    sid: str
    status: str


class TwilioClient:
    """One Twilio account's calls, over the caller's aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        account_sid: str,
        auth_token: str,
        api_base: str = DEFAULT_API_BASE,
        *,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._session = session
        self._auth_token = auth_token
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode("ascii")
        self._headers = {"Authorization": f"Basic {credentials}"}
        self._calls_url = (
            f"{api_base.rstrip('/')}/2010-04-01/Accounts/{quote(account_sid, safe='')}/Calls"
        )
        self._timeout_seconds = timeout_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def place_call(
        self,
        to: str,
        from_: str,
        *,
        twiml: str | None = None,
        url: str | None = None,
        status_callback: str,
        status_events: Sequence[str] = STATUS_EVENTS,
        machine_detection: str | None = "DetectMessageEnd",
        async_amd: bool = True,
        amd_status_callback: str | None = None,
        machine_detection_timeout: int | None = None,
        timeout_seconds: int | None = None,
    ) -> PlacedCall:
        """Dial ``to`` from ``from_``; once answered, Twilio runs ``twiml`` (or fetches it from
        ``url``: exactly one of them). Progress is posted to ``status_callback``.

        ``machine_detection`` (``Enable`` or ``DetectMessageEnd``, None for none) runs in the
        background when ``async_amd`` is set, its verdict posted to ``amd_status_callback``,
        for at most ``machine_detection_timeout`` seconds; ``timeout_seconds`` is how long
        Twilio lets it ring.
        """
        if (twiml is None) == (url is None):
            raise ValueError("a call needs exactly one of twiml and url")
        form: list[tuple[str, str]] = [("To", to), ("From", from_)]
        form.append(("Twiml", twiml) if twiml is not None else ("Url", url or ""))
        form += [("StatusCallback", status_callback), ("StatusCallbackMethod", "POST")]
        form += [("StatusCallbackEvent", event) for event in status_events]
        if machine_detection is not None:
            form.append(("MachineDetection", machine_detection))
            if machine_detection_timeout is not None:
                form.append(("MachineDetectionTimeout", str(machine_detection_timeout)))
            if async_amd:
                form.append(("AsyncAmd", "true"))
                if amd_status_callback is not None:
                    form.append(("AsyncAmdStatusCallback", amd_status_callback))
                    form.append(("AsyncAmdStatusCallbackMethod", "POST"))
        if timeout_seconds is not None:
            form.append(("Timeout", str(timeout_seconds)))
        document = await self._post(f"{self._calls_url}.json", form)
        sid, status = document.get("sid"), document.get("status")
        if not isinstance(sid, str) or not sid:
            raise TwilioError(None, None, None, description="answered a call with no SID")
        return PlacedCall(sid, status if isinstance(status, str) else "queued")

    async def complete_call(self, call_sid: str) -> None:
        """End the call ``call_sid``, whether it is ringing or under way."""
        url = f"{self._calls_url}/{quote(call_sid, safe='')}.json"
        await self._post(url, [("Status", "completed")])

    async def _post(self, url: str, form: list[tuple[str, str]]) -> dict[str, object]:
        try:
            async with self._session.post(
                url,
                data=form,
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,
                raise_for_status=False,
            ) as response:
                body = await _read_at_most(response.content, _ERROR_BODY_BYTES)
                if not 200 <= response.status < 300:
                    raise self._answered(response.status, body)
        except TimeoutError:
            description = f"no answer within {self._timeout_seconds:g}s"
            raise TwilioError(None, None, None, description=description) from None
        except aiohttp.ClientError as exc:
            # The exception's own text may hold the URL, never the token: the token is in a
            # header. Its kind alone says what went wrong.
            description = f"request failed: {type(exc).__name__}"
            raise TwilioError(None, None, None, description=description) from None
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            document = None
        if not isinstance(document, dict):
            raise TwilioError(None, None, None, description="answered JSON that does not parse")
        return document

    def _answered(self, status: int, body: bytes) -> TwilioError:
        """The error for a non-2xx answer, from Twilio's error document when it sent one."""
        try:
            document = orjson.loads(body[:_ERROR_BODY_BYTES])
        except orjson.JSONDecodeError:
            document = None  # a proxy's HTML page: the status alone tells it
        code: int | None = None
        message: str | None = None
        if isinstance(document, dict):
            raw_code, raw_message = document.get("code"), document.get("message")
            if isinstance(raw_code, int) and not isinstance(raw_code, bool):
                code = raw_code
            if isinstance(raw_message, str) and raw_message.strip():
                message = self._trimmed(raw_message)
        return TwilioError(status, code, message)

    def _trimmed(self, text: str) -> str:
        if self._auth_token:
            text = text.replace(self._auth_token, "[auth token]")
        text = " ".join(text.split())
        return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


async def _read_at_most(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The body up to ``limit`` bytes and one more, should it hold more: the rest is never
    read into memory."""
    body = bytearray()
    while len(body) <= limit:
        piece = await content.read(limit + 1 - len(body))
        if not piece:
            break
        body += piece
    return bytes(body)
