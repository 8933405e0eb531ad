"""Background work: the loops a server or worker process runs beside the API, supervised alike.

Each loop runs one step at a time. A step that fails is logged once, as one line, and tried
again after a back-off that grows while it keeps failing; the loop never ends on an error.
Every loop's state is kept where ``GET /v1/health`` reads it. What runs is registered once
(clarion.runtime.registry) and started by both ``clarion serve`` and ``clarion worker``.
"""
