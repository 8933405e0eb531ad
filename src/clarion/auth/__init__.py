"""Organizations and their API keys: creating them (the command line), keeping only digests
of the keys, a one-second cache of keys already checked, and telling which organization and
key a request's bearer token belongs to."""
