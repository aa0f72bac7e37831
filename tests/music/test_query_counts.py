"""Every list issues the same, small number of SQL statements whatever its page size: a count,
the page, and for a caller with a token one query for their likes among the page (no N+1)."""

from __future__ import annotations

import pytest

from bandstand.music.models import Album, AlbumSong, Like, Picture, Song
from bandstand.platform import list_counts
from tests.music.conftest import USER_ID, MusicHarness

SIZE = 60


async def _catalogue(music: MusicHarness) -> dict[str, int]:
    ids = await music.insert_songs([{"genre": "Rock", "lyrics": "words"} for _ in range(SIZE)])
    async with music.session() as session:
        album = Album(title="Album", artist="Band", search_text="album band")
        session.add(album)
        session.add_all(Picture(pic_url=f"https://x/{number}.jpg") for number in range(SIZE))
        session.add_all(
            Album(title=f"Album {number}", artist="Band", search_text="x") for number in range(SIZE)
        )
        await session.flush()
        session.add_all(
            AlbumSong(album_id=album.id, song_id=song_id, track_number=number + 1)
            for number, song_id in enumerate(ids)
        )
        session.add_all(Like(user_id=USER_ID, song_id=song_id) for song_id in ids)
        await session.flush()
        await session.execute(Song.__table__.update().values(like_count=1))
        return {"album": album.id}


# (path, with a user token, the most statements it may issue)
LISTS = [
    ("/api/v1/songs?page_size={size}", False, 2),
    ("/api/v1/songs?page_size={size}", True, 2),
    ("/api/v1/songs?page_size={size}&ordering=-likes&genre=Rock&search=song", True, 2),
    ("/api/v1/songs?page_size={size}&album={album}&ordering=title", True, 2),
    ("/api/v1/me/likes?page_size={size}", True, 2),
    ("/api/v1/albums/{album}/songs?page_size={size}", True, 3),
    ("/api/v1/albums?page_size={size}", False, 2),
    ("/api/v1/pictures?page_size={size}", False, 2),
    ("/songs?limit={size}", True, 1),
    ("/albums/{album}/songs?limit={size}", True, 2),
    ("/song?limit={size}", False, 1),
    ("/picture?limit={size}", False, 1),
]


async def test_statements_do_not_grow_with_the_page(music: MusicHarness) -> None:
    ids = await _catalogue(music)  # read only: built once for every list
    for path, signed_in, most in LISTS:
        headers = music.user if signed_in else {}
        # The first read counts the list; the count is kept until the next write.
        await music.client.get(path.format(size=1, **ids), headers=headers)
        counts = []
        for size in (1, 50):
            with music.statements() as executed:
                response = await music.client.get(path.format(size=size, **ids), headers=headers)
            assert response.status_code == 200, (path, response.text)
            body = response.json()
            items = body["results"] if isinstance(body, dict) and "results" in body else body
            if isinstance(items, dict):
                items = items["songs"]
            assert len(items) == size, (path, len(items))
            counts.append(len(executed))
        assert counts[0] == counts[1], (path, counts)
        assert counts[1] <= most, (path, counts)


async def test_a_search_asked_again_works_out_no_statement_s_key_again(
    music: MusicHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A count and the size of the searched table are kept under their statement's key: a
    search asked again builds none of its statements anew, so no key is worked out again."""
    await _catalogue(music)
    path = "/api/v1/songs?page_size=5&search=song"
    assert (await music.client.get(path, headers=music.user)).status_code == 200
    worked_out = []
    key_of = list_counts._statement_key
    monkeypatch.setattr(
        list_counts,
        "_statement_key",
        lambda session, statement: worked_out.append(statement) or key_of(session, statement),
    )
    for _ in range(3):
        response = await music.client.get(path, headers=music.user)
        assert response.status_code == 200, response.text
        assert response.json()["count"] == SIZE
    assert worked_out == []
