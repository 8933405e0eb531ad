"""Calls: the calls resource, the conversation engine that holds each live call, the web call
channel, and what follows a call (its analysis and its end-of-call report)."""
