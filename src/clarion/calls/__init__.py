"""Calls, the resource: creating a call from an assistant (its configuration snapshotted, its
variables filled, its limits kept), reading, ending and deleting calls, and how a call is shown
and reported. The live engine that holds a call is clarion.engine; what follows a call is
clarion.after_call."""
