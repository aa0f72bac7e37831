"""Music's canonical API under /api/v1: songs and likes, albums and their tracks, pictures."""

from bandstand.music.endpoints import albums, pictures, songs

routers = [songs.router, albums.router, pictures.router]

__all__ = ["routers"]
