"""Streamed CSV responses whose query has run before the response starts."""
from __future__ import annotations

import itertools
from collections.abc import Iterator

from fastapi.responses import StreamingResponse


def csv_response(chunks: Iterator[str], filename: str) -> StreamingResponse:
    """Takes the first chunk (``core.csvstream`` runs its statement before yielding the
    header) here, in the route: bad input or a database failure is then a 4xx/503 with a
    JSON body, never a 200 whose body stops after the header."""
    first = next(chunks)
    return StreamingResponse(itertools.chain([first], chunks), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{filename}"'})
