"""Allow ``python -m promptdeck``."""

from promptdeck.cli.main import main

main()
