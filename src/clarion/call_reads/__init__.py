"""The access log: who read which call's conversation, when, and from where."""
