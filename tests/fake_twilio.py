"""A Twilio stand-in on 127.0.0.1: its REST API for calls, its signed callbacks, and its end of
a call's media stream, each at Twilio's real protocol.

The REST API answers at ``/2010-04-01/Accounts/{AccountSid}/Calls.json`` (placing a call) and
``.../Calls/{CallSid}.json`` (``Status=completed`` ends one), checks basic auth, records every
form as sent, and refuses or fails on request with Twilio's own error documents.
:func:`signed_post` posts a callback as Twilio does, signed. :class:`TwilioStream` is Twilio's
end of a ``<Connect><Stream>``: it sends the caller's audio in real time, plays what it is sent
in real time, echoes marks once the audio before them has played, and honours ``clear``::

    async with fake_twilio() as twilio:               # on the test's own loop
        client = TwilioClient(session, twilio.account_sid, twilio.auth_token, twilio.url)
        twilio.refuse(400, 21211, "The 'To' number is not a valid phone number.")
        stream = await twilio.stream(ws_url, token, call_sid)
        stream.say(pcm)
        await stream.until(lambda: "greeting" in stream.marks)

    with running_fake_twilio() as twilio:             # served from a thread, for sync tests
        stream = twilio.stream(ws_url, token, call_sid)
        stream.say(pcm)
        stream.until(lambda: stream.closed)
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar
from xml.etree import ElementTree

import aiohttp
import orjson
from aiohttp import web
from multidict import MultiDict

from clarion.telephony.media import (
    LINE_FRAME_BYTES,
    LINE_FRAME_MS,
    LINE_RATE,
    MULAW_SILENCE,
    LineEncoder,
    from_line,
)
from clarion.telephony.signature import SIGNATURE_HEADER, expected_signature

ACCOUNT_SID = "AC" + "7e1f" * 8
AUTH_TOKEN = "twilio-test-token-4b9d21"
INVALID_TO = (400, 21211, "The 'To' number is not a valid phone number.")

T = TypeVar("T")


# The REST API


@dataclass(frozen=True)
class PlacedCallRecord:
    """A call placed on the fake: its SID and the form exactly as sent (names may repeat)."""

    sid: str
    form: MultiDict[str]

    @property
    def to(self) -> str | None:
        return self.form.get("To")

    @property
    def from_(self) -> str | None:
        return self.form.get("From")

    @property
    def twiml(self) -> str | None:
        return self.form.get("Twiml")

    @property
    def url(self) -> str | None:
        return self.form.get("Url")

    @property
    def status_callback(self) -> str | None:
        return self.form.get("StatusCallback")

    @property
    def status_events(self) -> list[str]:
        return self.form.getall("StatusCallbackEvent", [])


@dataclass
class FakeTwilio:
    """The running fake: its API base URL, credentials, knobs and what it received.

    :meth:`refuse` and :meth:`fail` answer the next requests (of either kind) with a Twilio
    error. ``unauthorized`` counts requests whose credentials were wrong.
    """

    url: str = ""
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    calls: list[PlacedCallRecord] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)  # SIDs of calls ended over the API
    unauthorized: int = 0
    errors: list[tuple[int, int, str]] = field(default_factory=list)
    streams: dict[str, TwilioStream] = field(default_factory=dict)  # by call SID

    def refuse(
        self, status: int = INVALID_TO[0], code: int = INVALID_TO[1], message: str = INVALID_TO[2]
    ) -> None:
        """Answer the next request with Twilio's error ``code`` and ``message``."""
        self.errors.append((status, code, message))

    def fail(self, status: int = 503, times: int = 1) -> None:
        """Answer the next ``times`` requests with a fault on Twilio's side."""
        self.errors += [(status, 20000 + status, "Service is unavailable")] * times

    def call(self, sid: str) -> PlacedCallRecord:
        """The call placed with SID ``sid``."""
        return next(call for call in self.calls if call.sid == sid)

    async def stream(self, ws_url: str, token: str, call_sid: str, **options: Any) -> TwilioStream:
        """Open the media stream of call ``call_sid`` as Twilio would; ending the call over the
        API hangs it up."""
        stream = TwilioStream(ws_url, token, call_sid, account_sid=self.account_sid, **options)
        self.streams[call_sid] = stream
        await stream.connect()
        return stream


@asynccontextmanager
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    """A fake on a free port, served on the running loop until the block ends."""
    fake = FakeTwilio()
    runner = await _start(fake)
    try:
        yield fake
    finally:
        for stream in list(fake.streams.values()):
            await stream.hang_up()
        await runner.cleanup()


async def _start(fake: FakeTwilio) -> web.AppRunner:
    app = web.Application()
    calls = "/2010-04-01/Accounts/{account_sid}/Calls"
    app.router.add_post(calls + ".json", partial(_place, fake))
    app.router.add_post(calls + "/{call_sid}.json", partial(_update, fake))
    runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return runner


async def _place(fake: FakeTwilio, request: web.Request) -> web.Response:
    refusal = _refusal(fake, request)
    if refusal is not None:
        return refusal
    form = MultiDict(await request.post())
    if not form.get("To"):
        return _error(400, 21201, "No 'To' number is specified")
    if not form.get("From"):
        return _error(400, 21603, "A 'From' phone number is required.")
    if sum(name in form for name in ("Twiml", "Url", "ApplicationSid")) != 1:
        return _error(400, 21205, "Url parameter is required.")
    sid = "CA" + secrets.token_hex(16)
    fake.calls.append(PlacedCallRecord(sid, MultiDict((k, str(v)) for k, v in form.items())))
    return _json(201, _call_document(fake, sid, "queued", form))


async def _update(fake: FakeTwilio, request: web.Request) -> web.Response:
    refusal = _refusal(fake, request)
    if refusal is not None:
        return refusal
    sid = request.match_info["call_sid"]
    placed = [call for call in fake.calls if call.sid == sid]
    if not placed and sid not in fake.streams:
        return _error(404, 20404, f"The requested resource {request.path} was not found")
    form = await request.post()
    if form.get("Status") != "completed":
        return _error(400, 21220, "Invalid call state for this request")
    fake.completed.append(sid)
    stream = fake.streams.get(sid)
    if stream is not None:  # Twilio ends the call's stream with it
        stream.hang_up_soon()
    return _json(200, _call_document(fake, sid, "completed", placed[0].form if placed else {}))


def _refusal(fake: FakeTwilio, request: web.Request) -> web.Response | None:
    """What Twilio answers before looking at the request: wrong credentials, or a knob."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        credentials = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        credentials = ""
    expected = f"{fake.account_sid}:{fake.auth_token}"
    if (
        scheme != "Basic"
        or credentials != expected
        or request.match_info["account_sid"] != fake.account_sid
    ):
        fake.unauthorized += 1
        return _error(401, 20003, "Authenticate")
    if fake.errors:
        return _error(*fake.errors.pop(0))
    return None


def _call_document(fake: FakeTwilio, sid: str, status: str, form: Mapping[str, Any]) -> Any:
    return {
        "sid": sid,
        "account_sid": fake.account_sid,
        "to": form.get("To"),
        "from": form.get("From"),
        "status": status,
        "direction": "outbound-api",
        "api_version": "2010-04-01",
        "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Calls/{sid}.json",
    }


def _error(status: int, code: int, message: str) -> web.Response:
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    document = {"code": code, "message": message, "more_info": more_info, "status": status}
    return _json(status, document)


def _json(status: int, document: Any) -> web.Response:
    return web.json_response(document, status=status, dumps=lambda d: orjson.dumps(d).decode())


# Callbacks


@dataclass(frozen=True)
class Answer:
    """What the server answered a callback: status, content type and body."""

    status: int
    content_type: str
    text: str


async def signed_post(
    url: str,
    params: Mapping[str, str] | Sequence[tuple[str, str]],
    auth_token: str = AUTH_TOKEN,
    *,
    signed_url: str | None = None,
    session: aiohttp.ClientSession | None = None,
) -> Answer:
    """POST ``params`` form-encoded to ``url`` with Twilio's signature of them.

    ``signed_url`` is the URL Twilio was given when it differs from where the request goes
    (the server's public URL, behind a proxy).
    """
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    signature = expected_signature(auth_token, signed_url or url, pairs)
    headers = {SIGNATURE_HEADER: signature, "User-Agent": "TwilioProxy/1.1"}
    async with _session(session) as client:
        async with client.post(url, data=pairs, headers=headers, allow_redirects=False) as answer:
            return Answer(answer.status, answer.content_type, await answer.text())


def call_status_params(
    call_sid: str, status: str, *, account_sid: str = ACCOUNT_SID, **extra: str
) -> dict[str, str]:
    """The parameters of a call status callback, as Twilio posts them."""
    return {
        "AccountSid": account_sid,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": status,
        "Direction": "outbound-api",
        **extra,
    }


@asynccontextmanager
async def _session(session: aiohttp.ClientSession | None) -> AsyncIterator[aiohttp.ClientSession]:
    if session is not None:
        yield session
        return
    async with aiohttp.ClientSession() as own:
        yield own


# The media stream


class TwilioStream:
    """Twilio's end of one call's bidirectional media stream.

    After :meth:`connect` it sends ``connected`` and ``start`` (the token as the custom
    parameter ``token``), then a ``media`` message every 20 ms: what :meth:`say` queued,
    silence otherwise, as a phone line does. What the server sends is played in real time:
    ``played`` is the line audio that played (μ-law), :attr:`heard` the same as 16 kHz PCM,
    ``marks`` the marks echoed back once the audio before them played, ``messages`` every
    message received. ``clear`` drops the audio not yet played and echoes the marks that were
    waiting, at once. ``errors`` lists what Twilio would have refused. :meth:`hang_up` sends
    ``stop`` and closes the socket; so does ending the call over the REST API.
    """

    def __init__(
        self,
        ws_url: str,
        token: str,
        call_sid: str,
        *,
        account_sid: str = ACCOUNT_SID,
        auth_token: str | None = None,
        signed_url: str | None = None,
        custom_parameters: Mapping[str, str] | None = None,
    ) -> None:
        self.ws_url = ws_url
        self.call_sid = call_sid
        self.account_sid = account_sid
        self.stream_sid = "MZ" + secrets.token_hex(16)
        self.parameters = {"token": token, **(custom_parameters or {})}
        self._headers = {"User-Agent": "Twilio.TmeWs/1.0"}
        if auth_token is not None:  # Twilio signs the upgrade over the URL it was given
            self._headers[SIGNATURE_HEADER] = expected_signature(auth_token, signed_url or ws_url)
        self.played = bytearray()
        self.received = bytearray()  # every μ-law byte the server sent, played or not
        self.marks: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.cleared = 0
        self.closed = False
        self.hung_up = False
        self._outgoing: deque[bytes | str] = deque()  # the caller's frames, and keys (str)
        self._playing: deque[bytearray | str] = deque()  # audio to play, and marks after it
        self._sequence = 0
        self._changed = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closing: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """Open the socket and start the stream."""
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self.ws_url, headers=self._headers)
        await self._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        start = {
            "accountSid": self.account_sid,
            "streamSid": self.stream_sid,
            "callSid": self.call_sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": LINE_RATE, "channels": 1},
            "customParameters": self.parameters,
        }
        await self._send({"event": "start", "start": start, "streamSid": self.stream_sid})
        self._tasks = [
            asyncio.create_task(self._line()),
            asyncio.create_task(self._listen()),
        ]

    def say(self, pcm: bytes) -> None:
        """Speak ``pcm`` (16 kHz) into the call, after what was said before."""
        self._outgoing.extend(LineEncoder().feed(pcm, last=True))

    def press(self, digit: str) -> None:
        """Press a key, after what was said before."""
        self._outgoing.append(digit)

    @property
    def heard(self) -> bytes:
        """What played to the caller, as 16 kHz PCM."""
        return from_line(bytes(self.played))

    @property
    def played_ms(self) -> float:
        """How long the audio that played to the caller lasts."""
        return len(self.played) * 1000 / LINE_RATE

    @property
    def saying(self) -> bool:
        """Whether some of what was said (or pressed) has not been sent yet."""
        return bool(self._outgoing)

    @property
    def playing(self) -> bool:
        """Whether audio or marks sent by the server wait to be played."""
        return bool(self._playing)

    async def until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        """Wait until ``condition()`` holds, checked whenever the stream changes."""
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    def hang_up_soon(self) -> None:
        """Hang up from code that cannot wait for it (the fake's REST handler)."""
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self.hang_up())

    async def hang_up(self) -> None:
        """The caller hangs up: ``stop``, then the socket closes."""
        if not self.hung_up:
            self.hung_up = True
            if self._ws is not None and not self._ws.closed:
                stop = {"accountSid": self.account_sid, "callSid": self.call_sid}
                try:
                    await self._send({"event": "stop", "stop": stop, "streamSid": self.stream_sid})
                except (ConnectionError, aiohttp.ClientError):
                    pass  # the server went first
        await self._close()

    async def _close(self) -> None:
        for task in self._tasks:
            if task is not asyncio.current_task():
                task.cancel()
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        self.closed = True
        self._changed.set()

    async def _line(self) -> None:
        """Every 20 ms, in real time: one frame of the caller, one frame played to them."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        chunk = 0
        silence = bytes([MULAW_SILENCE]) * LINE_FRAME_BYTES
        try:
            while True:
                chunk += 1
                await asyncio.sleep(max(0.0, began + chunk * LINE_FRAME_MS / 1000 - loop.time()))
                await self._play_frame()
                frame = self._outgoing.popleft() if self._outgoing else silence
                while isinstance(frame, str):
                    dtmf = {"track": "inbound_track", "digit": frame}
                    await self._send({"event": "dtmf", "streamSid": self.stream_sid, "dtmf": dtmf})
                    frame = self._outgoing.popleft() if self._outgoing else silence
                media = {
                    "track": "inbound",
                    "chunk": str(chunk),
                    "timestamp": str(chunk * LINE_FRAME_MS),
                    "payload": base64.b64encode(frame).decode(),
                }
                await self._send({"event": "media", "streamSid": self.stream_sid, "media": media})
                self._changed.set()
        except (ConnectionError, aiohttp.ClientError):
            return  # closed: _listen sees it

    async def _play_frame(self) -> None:
        """Play 20 ms of the server's audio; the marks it has reached have played."""
        await self._echo_marks_ahead()
        budget = LINE_FRAME_BYTES
        played = bytearray()
        while budget and self._playing and isinstance(self._playing[0], bytearray):
            audio = self._playing[0]
            played += audio[:budget]
            del audio[:budget]
            budget = LINE_FRAME_BYTES - len(played)
            if not audio:
                self._playing.popleft()
        self.played += played

    async def _echo_marks_ahead(self) -> None:
        while self._playing and isinstance(name := self._playing[0], str):
            self._playing.popleft()
            await self._echo(name)

    async def _echo(self, name: str) -> None:
        self.marks.append(name)
        await self._send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})

    async def _listen(self) -> None:
        assert self._ws is not None
        try:
            async for message in self._ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    self.errors.append(f"a {message.type.name} message")
                    continue
                await self._take(message.data)
                self._changed.set()
        finally:
            if not self.hung_up and self._closing is None:  # the server ended the stream
                self._closing = asyncio.get_running_loop().create_task(self._close())

    async def _take(self, text: str) -> None:
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.errors.append("a message that is not JSON")
            return
        self.messages.append(document)
        event = document.get("event")
        if document.get("streamSid") != self.stream_sid:
            self.errors.append(f"{event} for another stream")
            return
        if event == "media":
            try:
                audio = base64.b64decode(document["media"]["payload"], validate=True)
            except (KeyError, TypeError, binascii.Error):
                self.errors.append("media without a base64 payload")
                return
            self.received += audio
            if self._playing and isinstance(self._playing[-1], bytearray):
                self._playing[-1] += audio
            else:
                self._playing.append(bytearray(audio))
        elif event == "mark":
            name = (document.get("mark") or {}).get("name")
            if not isinstance(name, str):
                self.errors.append("mark without a name")
                return
            self._playing.append(name)
        elif event == "clear":
            self.cleared += 1
            waiting = [item for item in self._playing if isinstance(item, str)]
            self._playing.clear()
            for name in waiting:
                await self._echo(name)
        else:
            self.errors.append(f"an unknown event {event!r}")

    async def _send(self, document: dict[str, Any]) -> None:
        assert self._ws is not None
        if document["event"] != "connected":
            self._sequence += 1
            document = {"sequenceNumber": str(self._sequence), **document}
        await self._ws.send_str(orjson.dumps(document).decode())


# Served from a thread, for synchronous tests


class ThreadedStream:
    """A :class:`TwilioStream` on the fake's own loop, driven from a synchronous test."""

    def __init__(self, stream: TwilioStream, loop: asyncio.AbstractEventLoop) -> None:
        self.stream = stream
        self._loop = loop

    def say(self, pcm: bytes) -> None:
        self._loop.call_soon_threadsafe(self.stream.say, pcm)

    def press(self, digit: str) -> None:
        self._loop.call_soon_threadsafe(self.stream.press, digit)

    def until(self, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        _run(self._loop, self.stream.until(condition, timeout), timeout + 5)

    def hang_up(self) -> None:
        _run(self._loop, self.stream.hang_up(), 10)

    @property
    def heard(self) -> bytes:
        return _run(self._loop, _value(lambda: self.stream.heard), 5)

    @property
    def marks(self) -> list[str]:
        return _run(self._loop, _value(lambda: list(self.stream.marks)), 5)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return _run(self._loop, _value(lambda: list(self.stream.messages)), 5)

    @property
    def errors(self) -> list[str]:
        return _run(self._loop, _value(lambda: list(self.stream.errors)), 5)

    @property
    def closed(self) -> bool:
        return self.stream.closed


class ThreadedTwilio:
    """The fake served from a thread: its state, and streams opened on its loop."""

    def __init__(self, fake: FakeTwilio, loop: asyncio.AbstractEventLoop) -> None:
        self.fake = fake
        self._loop = loop

    @property
    def url(self) -> str:
        return self.fake.url

    def stream(self, ws_url: str, token: str, call_sid: str, **options: Any) -> ThreadedStream:
        stream = _run(self._loop, self.fake.stream(ws_url, token, call_sid, **options), 10)
        return ThreadedStream(stream, self._loop)

    def signed_post(
        self, url: str, params: Mapping[str, str] | Sequence[tuple[str, str]], **options: Any
    ) -> Answer:
        return _run(self._loop, signed_post(url, params, self.fake.auth_token, **options), 30)

    def answer(self, placed: PlacedCallRecord, answered_by: str | None = "human") -> ThreadedStream:
        """The placed call answered: its TwiML's stream opened, then (as Twilio's
        asynchronous detection does, once it has decided) its verdict posted, unless
        ``answered_by`` is None."""
        stream_url, token = stream_of(placed.twiml or "")
        stream = self.stream(stream_url, token, placed.sid)
        callback = placed.form.get("AsyncAmdStatusCallback")
        if answered_by is not None and callback is not None:
            verdict = {"AccountSid": self.fake.account_sid, "CallSid": placed.sid}
            verdict |= {"AnsweredBy": answered_by, "MachineDetectionDuration": "2400"}
            answer = self.signed_post(callback, verdict)
            assert answer.status == 204, answer.text
        return stream


def stream_of(twiml: str) -> tuple[str, str]:
    """The stream URL and token of TwiML that connects a stream."""
    document = ElementTree.fromstring(twiml)  # noqa: S314 - the document is the server's own
    stream = document.find("./Connect/Stream")
    assert stream is not None, twiml
    parameter = stream.find("./Parameter[@name='token']")
    assert parameter is not None, twiml
    return stream.attrib["url"], parameter.attrib["value"]


@contextmanager
def running_fake_twilio() -> Iterator[ThreadedTwilio]:
    """A fake on a free port, served from a thread of its own until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    context = fake_twilio()
    fake = _run(loop, context.__aenter__(), 5)
    try:
        yield ThreadedTwilio(fake, loop)
    finally:
        _run(loop, context.__aexit__(None, None, None), 10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def _run(loop: asyncio.AbstractEventLoop, work: Awaitable[T], timeout: float) -> T:
    async def wrapped() -> T:
        return await work

    return asyncio.run_coroutine_threadsafe(wrapped(), loop).result(timeout)


async def _value(read: Callable[[], T]) -> T:
    return read()
