"""The academy service as `bandstand serve academy` builds it, with the time the popular-courses
ranking is kept taken from the command line (0: not cached), so that the cached and the uncached
servers of `academy_popular.py` differ in nothing else.

`python bench/_academy_app.py PORT CACHE_SECONDS` (settings from the `BANDSTAND_*` environment).
"""

from __future__ import annotations

import sys

import uvicorn

from bandstand.academy.app import create_app
from bandstand.cli.server import SERVICE_KEEP_ALIVE_SECONDS
from bandstand.platform.observability import configure_logging
from bandstand.platform.runtime import Runtime
from bandstand.platform.settings import Settings


def main() -> None:
    port, cache_seconds = int(sys.argv[1]), float(sys.argv[2])
    settings = Settings()
    configure_logging(settings.log_level, json_logs=settings.log_json)
    app = create_app(Runtime(settings), popular_cache_seconds=cache_seconds)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
        timeout_keep_alive=SERVICE_KEEP_ALIVE_SECONDS,
    )


if __name__ == "__main__":
    main()
