"""Retry-safe creation: the ``Idempotency-Key`` header and the responses it replays."""
