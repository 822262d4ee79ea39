"""Hardened readers for the files a user edits or pastes in: TOML, YAML, JSON, CSV.

Every reader here refuses hostile or malformed input with one
:class:`~promptdeck.errors.ConfigError` naming the file and line, in bounded time and
memory, whatever the file holds:

- files larger than :data:`~promptdeck.safeload.limits.MAX_FILE_BYTES` (datasets:
  :data:`~promptdeck.safeload.limits.MAX_DATASET_BYTES`) are not read;
- text that is not UTF-8 is named with the line of the first bad byte;
- nesting deeper than :data:`~promptdeck.safeload.limits.MAX_DEPTH` is refused before
  anything parses that deep (C parsers overflow their stack, pure-Python ones recurse);
- YAML aliases may expand to at most
  :data:`~promptdeck.safeload.limits.MAX_ALIAS_NODES` nodes in all ("billion laughs"),
  and never into themselves;
- a key given twice in one mapping is refused, with both lines.

It is a leaf package (the standard library, PyYAML and :mod:`promptdeck.errors`
only), so the configuration, the engine, the TUI and the CLI all read through it.
"""
