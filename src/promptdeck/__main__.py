"""Allow ``python -m promptdeck``."""

from promptdeck.cli.main import entry

entry()
