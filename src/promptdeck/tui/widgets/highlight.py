"""Syntax highlighting with pygments, coloured from the active Textual theme."""

from __future__ import annotations

from collections.abc import Mapping

from pygments.lexers.data import YamlLexer
from pygments.token import (
    Comment,
    Keyword,
    Literal,
    Name,
    Number,
    Punctuation,
    String,
    Token,
)
from pygments.token import _TokenType as TokenType
from rich.color import Color, ColorParseError
from rich.text import Text

__all__ = ["highlight_yaml"]

# Token kind -> theme variable. The first matching ancestor wins.
_STYLES: list[tuple[TokenType, str]] = [
    (Name.Tag, "primary"),
    (Keyword, "secondary"),
    (Name.Constant, "secondary"),
    (Number, "accent"),
    (Literal.Scalar, "foreground"),
    (String, "success"),
    (Name.Variable, "warning"),
]


def _within(kind: TokenType, parent: TokenType) -> bool:
    """True when ``kind`` is ``parent`` or one of its subtypes (tokens are tuples)."""
    return tuple(kind[: len(parent)]) == tuple(parent)


def _colour(value: str | None) -> str:
    """Return ``value`` if Rich can use it as a colour (some theme variables are not)."""
    if not value:
        return ""
    try:
        Color.parse(value)
    except ColorParseError:
        return ""
    return value


def _style_for(kind: TokenType, palette: Mapping[str, str]) -> str:
    if _within(kind, Comment):
        return "dim italic"
    if _within(kind, Punctuation):
        return "dim"
    for ancestor, variable in _STYLES:
        if _within(kind, ancestor):
            return _colour(palette.get(variable))
    return ""


def highlight_yaml(code: str, palette: Mapping[str, str]) -> Text:
    """Return YAML as styled text.

    Args:
        code: The YAML source.
        palette: Theme variables (``App.theme_variables``): colour names to colours.

    Returns:
        Rich text with one style per token.
    """
    text = Text()
    for kind, value in YamlLexer().get_tokens(code):
        if _within(kind, Token.Text) or _within(kind, Token.Whitespace):
            text.append(value)
        else:
            text.append(value, style=_style_for(kind, palette))
    text.rstrip()
    return text
