"""The web's signing secret: from settings, or made once and kept in the data dir."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from bandstand.platform.settings import Settings

SECRET_FILE = "web-secret"  # noqa: S105 (a file name)


def signing_secret(settings: Settings) -> str:
    if settings.web_secret is not None:
        return settings.web_secret.get_secret_value()
    path = settings.data_dir / SECRET_FILE
    with contextlib.suppress(FileExistsError):
        _create(path)
    return path.read_text().strip()


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting together keep the first one's secret.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(48))
