"""Organizations, their API keys, and the bearer authentication that maps a key to a caller."""
