"""The assistant resource: what an AI assistant that phones patients is configured with.

This package owns the one description of an assistant's fields (``fields``), from which its
table, request schemas, representation and version records are all made; the rules of
creating, changing, deleting and restoring one, each change recorded as an immutable version
(``service``); its SQL, always scoped to the caller's organization (``repository``); and its
HTTP edge: the routes, and the fast lane that serves the busiest calls ahead of the framework
with the same pieces (``http``, ``routes``, ``lanes``).
"""
