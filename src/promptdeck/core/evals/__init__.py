"""Eval results, statistics and report renderers (pure: no I/O beyond the caller's streams)."""
