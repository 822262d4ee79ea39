"""The workbench's screens, one per section."""
