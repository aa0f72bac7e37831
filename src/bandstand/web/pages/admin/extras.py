"""What an item's console page shows besides its form: an album's tracks, a concert's
attendees, a course's lessons; and the forms that change the tracks."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values
from bandstand.web.pages.admin.common import refusal
from bandstand.web.pages.admin.editing import WHOLE_NUMBER
from bandstand.web.visit import PageVisit, Visit

router = ServiceRouter()
ROWS = 100


async def album_tracks(visit: Visit, album: dict[str, Any]) -> dict[str, Any]:
    tracks = await visit.get(f"/api/v1/albums/{album['id']}/songs", {"page_size": ROWS})
    return {"tracks": tracks["results"]}


async def concert_attendees(visit: Visit, concert: dict[str, Any]) -> dict[str, Any]:
    answers = await visit.get(f"/api/v1/concerts/{concert['id']}/attendees", {"page_size": ROWS})
    return {"attendees": answers["results"], "attendee_count": answers.get("count", 0)}


async def course_lessons(visit: Visit, course: dict[str, Any]) -> dict[str, Any]:
    lessons = await visit.get(
        f"/api/v1/courses/{course['id']}/lessons", {"include_drafts": True, "page_size": ROWS}
    )
    return {"lessons": lessons["results"]}


@router.post("/albums/{album_id}/tracks")
async def add_track(visit: PageVisit, request: Request, album_id: int) -> Response:
    visit.admin()
    values = await form_values(request)
    song, number = values.get("song_id", ""), values.get("track_number", "")
    if not WHOLE_NUMBER.fullmatch(song) or not WHOLE_NUMBER.fullmatch(number):
        return visit.redirect(
            f"/admin/albums/{album_id}#tracks",
            "Give the song's id and the track number as whole numbers.",
            kind="error",
        )
    answer = await visit.call(
        "POST",
        f"/api/v1/albums/{album_id}/songs",
        json_body={"song_id": int(song), "track_number": int(number)},
    )
    if answer.ok:
        return visit.redirect(f"/admin/albums/{album_id}#tracks", f"Track {number} is added.")
    return visit.redirect(f"/admin/albums/{album_id}#tracks", refusal(answer), kind="error")


@router.post("/albums/{album_id}/tracks/{song_id}/delete")
async def remove_track(visit: PageVisit, album_id: int, song_id: int) -> Response:
    visit.admin()
    answer = await visit.call("DELETE", f"/api/v1/albums/{album_id}/songs/{song_id}")
    if answer.ok or answer.status == 404:
        return visit.redirect(f"/admin/albums/{album_id}#tracks", "The track is taken off.")
    return visit.redirect(f"/admin/albums/{album_id}#tracks", refusal(answer), kind="error")
