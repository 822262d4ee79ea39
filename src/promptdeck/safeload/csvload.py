"""CSV read within the limits: any cell size up to the file's, errors with file and line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from promptdeck.errors import ConfigError, location
from promptdeck.safeload.limits import MAX_DATASET_BYTES

__all__ = ["csv_records"]


def csv_records(text: str, where: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Read CSV with a header row: (line the record starts at, cells by column).

    A cell may be as long as the file (the csv module's default limit, 131,072
    characters, would refuse a long document in a cell).

    Raises:
        ConfigError: A malformed record, or a row with more cells than columns,
            naming the file and line.
    """
    if csv.field_size_limit() < MAX_DATASET_BYTES:
        csv.field_size_limit(MAX_DATASET_BYTES)
    # The csv module splits records itself (quoted cells may hold line breaks).
    reader = csv.DictReader(io.StringIO(text, newline=""))
    start = 1
    while True:
        try:
            if reader.fieldnames is None:
                return
            start = reader.line_num + 1
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ConfigError(
                f"{location(where, reader.line_num or 1)}: invalid CSV: {exc}",
                "quote cells holding commas, quotes or line breaks",
            ) from exc
        if None in row:
            raise ConfigError(
                f"{location(where, start)}: more cells than columns",
                "quote cells holding commas",
            )
        yield start, dict(row)
