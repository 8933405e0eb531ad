"""Provider credentials: an organization's API keys for the language-model providers
(OpenAI and servers compatible with it, Anthropic) and the speech ones (Deepgram, ElevenLabs;
OpenAI's key serves its speech too), each with an optional base URL and name.
This package owns their table, the API that creates, lists, changes and deletes them (the key
write-only and encrypted at rest with the server key), and :func:`service.resolve_credential`,
which hands a conversation the decrypted key of the credential it is to use."""
