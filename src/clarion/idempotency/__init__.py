"""Retry-safe creation: a request sent with an ``Idempotency-Key`` is carried out once, and a
retry with the same key and body gets the first response again, stored in the same
transaction as the change it describes."""
