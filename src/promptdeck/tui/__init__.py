"""The Textual workbench: presentation and wiring over the engine, nothing more."""
