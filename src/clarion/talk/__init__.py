"""The talk page: a person joins a web call from a browser, speaking and listening.

Opened as ``/talk#<web_call_url>``: the call's address, token included, stays in the URL
fragment, which the browser never sends to a server. The page (``static/``) is plain HTML,
CSS and JavaScript served by clarion itself, with two AudioWorklets that carry the
microphone to the call and the call's voice to the speaker as 16 kHz PCM (``routes``).
"""
