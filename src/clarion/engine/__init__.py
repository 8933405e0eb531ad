"""The live conversation engine: the calls this process holds (live.py), each held by a
conversation (conversation.py) over a channel (channel.py; the web call's WebSocket in
web_channel.py), what is said written as it is said (recorder.py), and the moves the engine
makes on a call's row (moves.py)."""
