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
        self.host: str | None = None  # where the request went, once the endpoint says

    def at(self, host: str | None) -> SpeechError:
        """This error, as of a request to ``host`` (the first host said stands)."""
        self.host = self.host or host
        return self
