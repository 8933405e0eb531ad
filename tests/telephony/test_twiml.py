"""The TwiML clarion answers with, read back by an XML parser as Twilio reads it."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from clarion.telephony.twiml import connect_stream, hangup, reject


def read(twiml: str) -> ET.Element:
    return ET.fromstring(twiml)  # noqa: S314 - the document is our own output


def test_connect_stream_names_the_stream_and_carries_the_token() -> None:
    url = "wss://clarion.example.org/v1/call/0b4d/twilio"
    document = read(connect_stream(url, "tok-123"))
    assert document.tag == "Response"
    [connect] = document
    assert connect.tag == "Connect"
    [stream] = connect
    assert stream.tag == "Stream"
    assert stream.attrib == {"url": url}
    [parameter] = stream
    assert parameter.tag == "Parameter"
    assert parameter.attrib == {"name": "token", "value": "tok-123"}


def test_values_are_escaped_and_cannot_add_elements() -> None:
    url = 'wss://example.org/a?b=1&c="2"<x>'
    token = 't\'"/><Hangup/><Parameter name="token" value="forged'
    text = connect_stream(url, token)
    document = read(text)
    assert [element.tag for element in document.iter()] == [
        "Response",
        "Connect",
        "Stream",
        "Parameter",
    ]
    stream = document.find("Connect/Stream")
    assert stream is not None
    assert stream.attrib["url"] == url
    parameter = document.find("Connect/Stream/Parameter")
    assert parameter is not None
    assert parameter.attrib == {"name": "token", "value": token}
    assert "<Hangup/>" not in text


def test_reject_and_hangup() -> None:
    assert [e.tag for e in read(reject()).iter()] == ["Response", "Reject"]
    assert [e.tag for e in read(hangup()).iter()] == ["Response", "Hangup"]
