"""The ``promptdeck`` command: headless entry points over the engine, and the TUI launcher."""
