"""YAML read safely: no code-running tags, bounded nesting and aliases, no duplicate keys.

LibYAML (when PyYAML has it) only tokenises and parses here: its parser keeps an
explicit stack, while its composer recurses in C and overflows the process's stack
on deep input. The node tree is composed by :class:`_Composer`, which walks the
events with a stack of its own and checks each limit as it goes, so nothing ever
recurses deeper than :data:`~promptdeck.safeload.limits.MAX_DEPTH`.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from promptdeck.errors import ConfigError, location
from promptdeck.safeload.limits import MAX_ALIAS_NODES, MAX_DEPTH, LimitError

__all__ = ["UNICODE_BREAKS", "load_yaml"]

_Parser: Any = getattr(yaml, "CParser", None) or yaml.parser.Parser
"""LibYAML's parser when PyYAML was built with it (about ten times faster)."""


class _Refused(Exception):
    """A limit was passed: ``message`` at 0-based ``line``."""

    def __init__(self, line: int | None, message: str, hint: str, *, limit: bool = True) -> None:
        super().__init__(message)
        self.line, self.message, self.hint, self.limit = line, message, hint, limit


class _Open:
    """A collection being composed: its node, its anchor, the keys it has so far."""

    def __init__(self, node: Node, anchor: str | None) -> None:
        self.node, self.anchor = node, anchor
        self.keys: dict[tuple[str, str], Node] = {}
        self.key: Node | None = None

    def add(self, item: Node) -> None:
        """Add an item (a sequence) or a key, then its value (a mapping)."""
        if isinstance(self.node, SequenceNode):
            self.node.value.append(item)
        elif self.key is None:
            self.key = item
        else:
            self._check_duplicate(self.key)
            self.node.value.append((self.key, item))
            self.key = None

    def _check_duplicate(self, key: Node) -> None:
        if not isinstance(key, ScalarNode) or key.value == "<<":
            return
        ident = (key.tag, key.value)
        first = self.keys.get(ident)
        if first is not None:
            raise _Refused(
                key.start_mark.line,
                f"key {key.value!r} is given twice (first at line {first.start_mark.line + 1})",
                "remove one of them: keys must be unique in a mapping",
                limit=False,
            )
        self.keys[ident] = key


class _Composer:
    """Builds the node tree from parser events without recursion, within the limits."""

    def __init__(self, parser: Any, resolve: Any) -> None:
        self._parser = parser
        self._resolve = resolve
        self._anchors: dict[str, Node] = {}
        self._sizes: dict[int, int] = {}
        self._open: set[str] = set()
        self._expanded = 0

    def document(self) -> Node | None:
        """The stream's only document (None when empty)."""
        parser = self._parser
        parser.get_event()  # StreamStart
        if parser.check_event(StreamEndEvent):
            parser.get_event()
            return None
        parser.get_event()  # DocumentStart
        root = self._node()
        parser.get_event()  # DocumentEnd
        if not parser.check_event(StreamEndEvent):
            event = parser.get_event()
            raise ComposerError(
                "expected a single document in the stream",
                root.start_mark,
                "but found another document",
                event.start_mark,
            )
        parser.get_event()
        return root

    def _node(self) -> Node:
        stack: list[_Open] = []
        while True:
            node, anchor, opened = self._next()
            if opened:
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(
                        node.start_mark.line,
                        f"nested more than {MAX_DEPTH} levels deep",
                        "flatten the data (see docs/formats.md#limits)",
                    )
                if anchor is not None:
                    self._open.add(anchor)
                    self._anchors[anchor] = node
                stack.append(_Open(node, anchor))
                continue
            # ``node`` is complete: a scalar, an alias, or a collection just closed.
            while stack:
                frame = stack[-1]
                frame.add(node)
                if not self._closes(frame.node):
                    break
                stack.pop()
                node = self._finish(frame.node, frame.anchor)
            else:
                return node

    def _closes(self, node: Node) -> bool:
        """Consume the end event of ``node`` when it comes next."""
        end = MappingEndEvent if isinstance(node, MappingNode) else SequenceEndEvent
        if self._parser.check_event(end):
            node.end_mark = self._parser.get_event().end_mark
            return True
        return False

    def _finish(self, node: Node, anchor: str | None) -> Node:
        size = 1
        for item in node.value:
            if isinstance(item, tuple):
                size += self._sizes.get(id(item[0]), 1) + self._sizes.get(id(item[1]), 1)
            else:
                size += self._sizes.get(id(item), 1)
        self._sizes[id(node)] = size
        if anchor is not None:
            self._open.discard(anchor)
        return node

    def _next(self) -> tuple[Node, str | None, bool]:
        """The next node: a scalar or alias (complete), or an opened collection."""
        parser = self._parser
        event = parser.get_event()
        if isinstance(event, AliasEvent):
            return self._alias(event), None, False
        anchor = event.anchor
        if anchor is not None and anchor in self._anchors:
            raise ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                self._anchors[anchor].start_mark,
                "second occurrence",
                event.start_mark,
            )
        tag = event.tag
        if isinstance(event, ScalarEvent):
            if tag is None or tag == "!":
                tag = self._resolve(ScalarNode, event.value, event.implicit)
            scalar = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
            if anchor is not None:
                self._anchors[anchor] = scalar
            return scalar, None, False
        kind: Any = SequenceNode if isinstance(event, SequenceStartEvent) else MappingNode
        assert isinstance(event, SequenceStartEvent | MappingStartEvent)
        if tag is None or tag == "!":
            tag = self._resolve(kind, None, event.implicit)
        node: Node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if self._closes(node):
            if anchor is not None:
                self._anchors[anchor] = node
            self._sizes[id(node)] = 1
            return node, None, False
        return node, anchor, True

    def _alias(self, event: AliasEvent) -> Node:
        name = event.anchor
        if name not in self._anchors:
            raise ComposerError(None, None, f"found undefined alias {name!r}", event.start_mark)
        if name in self._open:
            raise _Refused(
                event.start_mark.line,
                f"alias *{name} refers to a collection that contains it",
                "a YAML alias cannot repeat its own parent",
                limit=False,
            )
        target = self._anchors[name]
        self._expanded += self._sizes.get(id(target), 1)
        if self._expanded > MAX_ALIAS_NODES:
            raise _Refused(
                event.start_mark.line,
                f"aliases expand to more than {MAX_ALIAS_NODES:,} values",
                "write the data out instead of repeating it with anchors and aliases",
            )
        return target


_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""Its parser (LibYAML's when PyYAML has it), the safe constructor and resolver."""

UNICODE_BREAKS = "\x85\u2028\u2029"
"""NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR: line breaks to YAML 1.1, text to everyone else."""


def load_yaml(text: str, path: str | Any) -> tuple[Any, Node | None]:
    """Parse YAML text safely, keeping its node tree for line look-ups.

    PyYAML and LibYAML follow YAML 1.1, where U+0085, U+2028 and U+2029 break lines:
    inside a value they would shift every later line number, so they are swapped
    for unused private-use characters while parsing and swapped back in the values.

    Args:
        text: The YAML text.
        path: The file it came from (for messages).

    Returns:
        The data and the root node (None for an empty document).

    Raises:
        ConfigError: On a syntax error or a passed limit, with file and line.
    """
    swaps: dict[int, str] = {}
    if any(ch in text for ch in UNICODE_BREAKS):
        free = (chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
        swaps = {ord(ch): next(free) for ch in UNICODE_BREAKS}
        text = text.translate(swaps)
    loader = _Loader(text)
    try:
        node = _Composer(loader, loader.resolve).document()
        data = loader.construct_document(node) if node is not None else None
    except _Refused as exc:
        line = exc.line + 1 if exc.line is not None else None
        kind = LimitError if exc.limit else ConfigError
        raise kind(f"{location(path, line)}: {exc.message}", exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(
            f"{location(path, line)}: invalid YAML: {problem}",
            "check indentation and quoting at that line",
        ) from exc
    except (yaml.YAMLError, ValueError, OverflowError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{path}: invalid YAML: {reason}", "check the file's syntax") from exc
    finally:
        loader.dispose()
    if swaps:
        data = _restored(data, {ord(v): chr(k) for k, v in swaps.items()})
    return data, node


def _restored(data: Any, table: dict[int, str]) -> Any:
    """``data`` with the swapped characters back in every string (keys included)."""
    if isinstance(data, str):
        return data.translate(table)
    if isinstance(data, list):
        return [_restored(item, table) for item in data]
    if isinstance(data, dict):
        return {_restored(k, table): _restored(v, table) for k, v in data.items()}
    return data
