"""``python -m clarion``: the same command as ``clarion``."""

from clarion.cli import main

main()
