"""Persistence: SQLModel tables, migrations and repositories over the workspace database.

The store imports nothing above itself: not the engine, not a front end.
"""
