"""Read one key of a JSON text column in SQL, on SQLite and PostgreSQL alike.

SQLite has ``json_extract(col, '$.key')``; PostgreSQL parses the text as ``jsonb`` and
takes ``->> 'key'``. Both give a string back as the string, and an array or object as
its JSON text; :func:`json_number` also casts a number to a float on PostgreSQL (where
``->>`` gives text).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

__all__ = ["json_number", "json_text"]


class _JsonKey(FunctionElement[Any]):
    inherit_cache = True
    name = "json_key"


class _JsonText(_JsonKey):
    type = Text()
    inherit_cache = True


class _JsonNumber(_JsonKey):
    type = Float()
    inherit_cache = True


def json_text(column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
    """The value under top-level ``key`` of a JSON text column (text, or JSON text)."""
    return _JsonText(column, key)


def json_number(column: ColumnElement[Any], key: str) -> ColumnElement[Any]:
    """The number under top-level ``key`` of a JSON text column (NULL when missing)."""
    return _JsonNumber(column, key)


def _arguments(element: _JsonKey, compiler: SQLCompiler, **kw: Any) -> tuple[str, str]:
    column, key = list(element.clauses)
    return compiler.process(column, **kw), str(getattr(key, "value", key))


@compiles(_JsonKey, "sqlite")
def _sqlite(element: _JsonKey, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = _arguments(element, compiler, **kw)
    return f"json_extract({column}, '$.{key}')"


@compiles(_JsonText, "postgresql")
def _pg_text(element: _JsonKey, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = _arguments(element, compiler, **kw)
    return f"(CAST({column} AS jsonb) ->> '{key}')"


@compiles(_JsonNumber, "postgresql")
def _pg_number(element: _JsonKey, compiler: SQLCompiler, **kw: Any) -> str:
    column, key = _arguments(element, compiler, **kw)
    return f"CAST(CAST({column} AS jsonb) ->> '{key}' AS DOUBLE PRECISION)"
