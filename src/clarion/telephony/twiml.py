"""The TwiML documents clarion answers Twilio with.

Every value put in an attribute is escaped, so a URL or token with ``&``, quotes or angle
brackets stays one attribute value and cannot add elements of its own.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

CONTENT_TYPE = "text/xml"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def connect_stream(stream_url: str, token: str) -> str:
    """Connect the call to a bidirectional media stream at ``stream_url`` (a ``wss://`` URL).

    Twilio takes no query string in a stream's URL, so the stream's ``token`` travels as a
    custom parameter, which Twilio hands back in the stream's ``start`` message.
    """
    return (
        f"{_DECLARATION}<Response><Connect><Stream url={quoteattr(stream_url)}>"
        f'<Parameter name="token" value={quoteattr(token)}/>'
        "</Stream></Connect></Response>"
    )


def reject() -> str:
    """Refuse an incoming call without answering it (Twilio does not bill a rejected call)."""
    return f"{_DECLARATION}<Response><Reject/></Response>"


def hangup() -> str:
    """End a call that has been answered."""
    return f"{_DECLARATION}<Response><Hangup/></Response>"
