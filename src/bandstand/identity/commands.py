"""Identity's administrative commands, run by the CLI outside any request."""

from __future__ import annotations

from bandstand.identity.models import User
from bandstand.identity.schemas import UserCreate
from bandstand.identity.service import user_service
from bandstand.platform.settings import Settings
from bandstand.platform.write_generation import followed_database


async def create_superuser(settings: Settings, username: str, email: str, password: str) -> User:
    """Create an admin account; validation errors surface as pydantic or domain errors."""
    data = UserCreate(username=username, email=email, password=password)
    async with (
        followed_database(settings, "identity") as database,
        database.unit_of_work() as session,
    ):
        return await user_service.register(session, data, role="admin")
