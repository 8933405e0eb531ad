"""SpeechError: a speech provider that could not do its part.

Like the language models' errors, it says which provider failed and how (the HTTP status, the
kind of network failure), never the key and never the provider's own words, which may quote
what the person said.
"""

from __future__ import annotations


class SpeechError(Exception):
    """A transcriber or voice failed; ``retryable`` says whether trying again may help."""

    def __init__(
        self, provider: str, description: str, *, retryable: bool, status: int | None = None
    ) -> None:
        super().__init__(f"{provider}: {description}")
        self.provider = provider
        self.retryable = retryable
        self.status = status
