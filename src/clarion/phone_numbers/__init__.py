"""Phone numbers: the numbers an organization calls from and is called on, each held at a
carrier (Twilio, with the account's SID and auth token) and optionally answered by one of
its assistants. This package owns their table, the API that creates, lists, changes and
deletes them (the auth token write-only and encrypted at rest with the server key), and
:func:`service.phone_number_of`, the lookup a phone call makes of its number."""
