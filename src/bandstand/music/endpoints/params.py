"""Path and query parameters shared by music's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from bandstand.music.schemas import INT_MAX
from bandstand.platform.schemas import StorableText

# Bounded so that no id reaches the database as a number its INTEGER columns cannot hold.
SongId = Annotated[int, Path(ge=1, le=INT_MAX, description="The song's id")]
AlbumId = Annotated[int, Path(ge=1, le=INT_MAX, description="The album's id")]
PictureId = Annotated[int, Path(ge=1, le=INT_MAX, description="The picture's id")]
# Text parameters refuse NUL, which PostgreSQL cannot compare: a 422, not a database error.
Search = Annotated[
    str | None,
    StorableText(max_length=200),
    Query(
        description="Words that must all occur in the title or the artist, ignoring case and "
        "accents",
    ),
]
Genre = Annotated[str | None, StorableText(max_length=50), Query(description="Exactly this genre")]
Artist = Annotated[
    str | None, StorableText(max_length=100), Query(description="Exactly this artist")
]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many items")]
