"""Prompts: the files, their versions and labels, rendering, lint, approval and export."""
