"""The console: the web pages at ``/`` for the people who look after an organization's
assistants, served by clarion itself (no other origin, no build step)."""
