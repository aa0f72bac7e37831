"""Inherited routes (CONTRACTS.md C and E), thin adapters over music's services."""

from bandstand.music.compat import concert_app, player

routers = [player.router, concert_app.router]

__all__ = ["routers"]
