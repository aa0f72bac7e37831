"""The same journeys in distributed mode: every service, the web and the gateway each their own
`bandstand serve` process on PostgreSQL, RabbitMQ and Redis, the billing worker on its own, the
demo loaded by `bandstand seed --demo`. The web reaches the services' APIs over HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from bandstand import registry
from tests.e2e.cluster import prepare_platform
from tests.e2e.processes import Bandstand, bandstand_env
from tests.support.servers import PostgresServer, RabbitMQServer, RedisServer, free_port
from tests.web.browser import (
    test_academy,
    test_account,
    test_admin,
    test_concerts,
    test_instruments,
    test_movies,
    test_music,
)
from tests.web.browser.conftest import ADMIN, Site, _make_instructor

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.redis]
SERVICES = tuple(registry.names())


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PostgresServer,
    rabbitmq_server: RabbitMQServer,
    redis_server: RedisServer,
) -> Iterator[Site]:
    workdir = tmp_path_factory.mktemp("distributed-web")
    rabbitmq_server.start()
    rabbitmq_server.reset()
    redis_server.start()
    redis_server.flushall()
    postgres_server.start()
    databases = {name: f"web_journeys_{name}" for name in registry.with_database()}
    for database in databases.values():
        postgres_server.create_database(database)
    ports = {name: free_port() for name in (*SERVICES, "gateway")}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env = bandstand_env(
        BANDSTAND_BROKER_URL=rabbitmq_server.url,
        BANDSTAND_CACHE_URL=redis_server.url,
        BANDSTAND_JWKS_URL=f"{urls['identity']}/.well-known/jwks.json",
        BANDSTAND_TRUSTED_PROXIES='["127.0.0.1/32"]',
        **{
            f"BANDSTAND_DATABASES__{name.upper()}": postgres_server.url(database)
            for name, database in databases.items()
        },
        **{f"BANDSTAND_SERVICE_URLS__{name.upper()}": urls[name] for name in SERVICES},
    )
    data_dir = workdir / "identity"
    prepare_platform(env, data_dir, ADMIN)
    username, _, password = ADMIN
    processes = [
        Bandstand(
            "serve",
            name,
            *("--port", str(ports[name]), "--data-dir", str(workdir / name)),
            env=env,
            workdir=workdir / name,
            name=name,
        )
        for name in (*SERVICES, "gateway")
    ]
    processes.append(
        Bandstand(
            "worker",
            "billing",
            *("--data-dir", str(workdir / "billing-worker")),
            env=env,
            workdir=workdir / "billing-worker",
            name="billing-worker",
        )
    )
    try:
        with contextlib.ExitStack() as stack:
            for process in processes:
                stack.enter_context(process)
            gateway = processes[len(SERVICES)]
            gateway.wait_until_serving(f"{urls['gateway']}/ready", timeout=120)
            site = Site(
                urls["gateway"],
                data_dir,
                gateway,
                users={"admin": (username, password)},
                broker_url=rabbitmq_server.url,
            )
            _make_instructor(site)
            yield site
        for process in processes:
            assert "Traceback" not in process.log(), process.log()[-4000:]
    finally:
        for database in databases.values():
            with contextlib.suppress(Exception):
                postgres_server.drop_database(database)


def test_sign_up_log_out_and_log_in_again(page: Page) -> None:
    test_account.test_sign_up_log_out_and_log_in_again(page)


def test_log_out_ends_the_session_for_good(page: Page, site: Site) -> None:
    test_account.test_log_out_ends_the_session_for_good(page, site)


def test_a_user_is_refused_the_console(page: Page) -> None:
    test_account.test_a_user_is_refused_the_console(page)


def test_like_a_song_and_find_it_in_my_likes(page: Page) -> None:
    test_music.test_like_a_song_and_find_it_in_my_likes(page)


def test_attend_a_concert_and_see_the_count_change(page: Page, site: Site) -> None:
    test_concerts.test_attend_a_concert_and_see_the_count_change(page, site)


def test_search_instruments_with_a_facet_and_a_price_bound(page: Page, site: Site) -> None:
    test_instruments.test_search_with_a_facet_and_a_price_bound(page, site)


def test_order_a_movie_and_see_it_complete(page: Page, site: Site) -> None:
    test_movies.test_order_a_movie_and_see_it_complete(page, site)


def test_enrol_mark_lessons_done_and_watch_the_progress_bar_reach_100(page: Page) -> None:
    test_academy.test_enrol_mark_lessons_done_and_watch_the_progress_bar_reach_100(page)


def test_an_instructor_publishes_a_lesson_and_reads_the_analytics(page: Page, site: Site) -> None:
    test_academy.test_an_instructor_publishes_a_lesson_and_reads_the_analytics(page, site)


def test_an_admin_imports_changes_a_role_redrives_and_reads_the_audit_log(
    page: Page, site: Site
) -> None:
    test_admin.test_an_admin_imports_changes_a_role_redrives_and_reads_the_audit_log(page, site)
