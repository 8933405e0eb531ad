"""What the server keeps on disk beside its database: the data directory and its owner-only
files, the server key, and the box that seals secrets with it before they are stored."""
