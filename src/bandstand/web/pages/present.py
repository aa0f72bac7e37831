"""How the music and photos pages show the music service's values: dates, durations, places,
and which media URLs a page may embed."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from bandstand.web.visit import PageError

INT_MAX = 2_147_483_647
"""The largest id the services accept (their INTEGER columns)."""


def local_media(url: object) -> str | None:
    """`url` when it is a path on this site, else None: the Content-Security-Policy lets a page
    load images and audio from its own origin only, so an outside URL would be refused."""
    if not isinstance(url, str) or not url.startswith("/") or url.startswith("//"):
        return None
    return url


def long_date(value: object) -> str:
    """An ISO date (or date-time) as people read it: `14 March 2026`; "" when there is none."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        day = datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day:%B %Y}"


def duration(seconds: object) -> str:
    """A song's length as `3:05` (`1:02:03` past an hour); "" when unknown or zero."""
    if not isinstance(seconds, int) or seconds <= 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def place(picture: dict[str, Any]) -> str:
    """Where an event picture was taken: `city, state, country`, leaving out what is unknown
    and a state that only repeats the city."""
    city = picture.get("event_city") or ""
    state = picture.get("event_state") or ""
    parts = [city, "" if state == city else state, picture.get("event_country") or ""]
    return ", ".join(part for part in parts if part)


def optional_id(value: str | None, name: str) -> int | None:
    """A filter's id from the query: empty means no filter (a form's "All" choice sends
    `name=`); anything but an id the services can hold is a 400 page."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not text.isdigit() or not 1 <= int(text) <= INT_MAX:
        raise PageError(400, "Bad request", f"These values are not valid: {name}.")
    return int(text)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


HELPERS: dict[str, Any] = {
    "local_media": local_media,
    "long_date": long_date,
    "duration": duration,
    "place": place,
    "plural": plural,
}
"""Given to the music and photos templates."""
