"""Traces from the user's own applications: the OTLP receiver behind ``promptdeck collect``."""
