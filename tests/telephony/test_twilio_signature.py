"""Twilio's request signature, checked against the vectors Twilio publishes with its own helper
libraries, and against every way a forged or altered request differs from a signed one."""

from __future__ import annotations

import pytest

from clarion.telephony.signature import expected_signature, signature_valid

# From twilio-python's and twilio-php's request validation tests and docs.
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="

# From twilio-ruby's request validator spec: a real voice webhook, with empty values.
VOICE_TOKEN = "2bd9e9638872de601313dc77410d3b23"
VOICE_URL = "http://twiliotests.heroku.com/validate/voice"
VOICE_PARAMS = {
    "ToState": "California",
    "CalledState": "California",
    "Direction": "inbound",
    "FromState": "CA",
    "AccountSid": "ACba8bc05eacf94afdae398e642c9cc32d",
    "Caller": "+14153595711",
    "CallerZip": "94108",
    "CallerCountry": "US",
    "From": "+14153595711",
    "FromCity": "SAN FRANCISCO",
    "CallerCity": "SAN FRANCISCO",
    "To": "+14157669926",
    "FromZip": "94108",
    "FromCountry": "US",
    "ToCity": "",
    "CallStatus": "ringing",
    "CalledCity": "",
    "CallerState": "CA",
    "CalledZip": "",
    "ToZip": "",
    "ToCountry": "US",
    "CallSid": "CA136d09cd59a3c0ec8dbff44da5c03f31",
    "CalledCountry": "US",
    "Called": "+14157669926",
    "ApiVersion": "2010-04-01",
    "ApplicationSid": "AP44efecad51364e80b133bb7c07eb8204",
}
VOICE_SIGNATURE = "oVb2kXoVy8GEfwBDjR8bk/ZZ6eA="


def test_the_published_vectors() -> None:
    assert expected_signature(TOKEN, URL, PARAMS) == SIGNATURE
    assert signature_valid(TOKEN, URL, PARAMS, SIGNATURE)
    assert expected_signature(VOICE_TOKEN, VOICE_URL, VOICE_PARAMS) == VOICE_SIGNATURE
    assert signature_valid(VOICE_TOKEN, VOICE_URL, VOICE_PARAMS, VOICE_SIGNATURE)


def test_the_order_parameters_come_in_does_not_matter() -> None:
    shuffled = list(reversed(PARAMS.items()))
    assert expected_signature(TOKEN, URL, shuffled) == SIGNATURE


def test_a_repeated_name_is_signed_with_its_values_sorted() -> None:
    # twilio-python's vector for a form with a name given twice.
    pairs = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234")]
    assert expected_signature(TOKEN, URL, pairs) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


@pytest.mark.parametrize(
    ("url", "params"),
    [
        (URL, {**PARAMS, "Digits": "1235"}),  # a value changed
        (URL, {**PARAMS, "CallStatus": "completed"}),  # a parameter added
        (URL, {k: v for k, v in PARAMS.items() if k != "Digits"}),  # one taken out
        (URL, {**PARAMS, "Digits": "", "igits": "1234"}),  # the same text, split elsewhere
        (URL.replace("https", "http"), PARAMS),  # the URL as a proxy's upstream sees it
        (URL.replace("foo=1", "foo=2"), PARAMS),  # another query
        ("https://mycompany.com/other.php?foo=1&bar=2", PARAMS),  # another path
    ],
)
def test_an_altered_request_fails(url: str, params: dict[str, str]) -> None:
    assert not signature_valid(TOKEN, url, params, SIGNATURE)


def test_another_token_or_no_signature_fails() -> None:
    assert not signature_valid("54321", URL, PARAMS, SIGNATURE)
    assert not signature_valid(TOKEN, URL, PARAMS, None)
    assert not signature_valid(TOKEN, URL, PARAMS, "")
    assert not signature_valid(TOKEN, URL, PARAMS, SIGNATURE[:-2] + "A=")
    assert not signature_valid(TOKEN, URL, PARAMS, "ünïcode")
    # No token configured: nothing is Twilio's, not even a signature made with the empty key.
    assert not signature_valid("", URL, PARAMS, expected_signature("", URL, PARAMS))


def test_a_websocket_upgrade_is_signed_over_its_url_alone() -> None:
    url = "wss://clarion.example.org/v1/call/c-1/twilio"
    signature = expected_signature(TOKEN, url)
    assert signature_valid(TOKEN, url, {}, signature)
    assert not signature_valid(TOKEN, url.replace("c-1", "c-2"), {}, signature)
