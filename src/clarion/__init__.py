"""Clarion: a self-hostable server for the Clarion voice-assistant API."""

__version__ = "0.1.0"
