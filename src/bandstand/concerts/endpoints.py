"""Concerts's canonical API under /api/v1: the calendar, attendance and attendees."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from bandstand.concerts.schemas import (
    AttendanceUpdate,
    Attendee,
    CityFilter,
    ConcertCreate,
    ConcertRead,
    ConcertUpdate,
    DateBound,
    MyAttendance,
    MyConcert,
    Ordering,
    StoredStatus,
)
from bandstand.concerts.service import concert_filters, concert_service
from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.pagination import Page, Pagination, page_shape
from bandstand.platform.resources import AdminResource
from bandstand.platform.security import AdminUser, CurrentUser, OptionalUser
from bandstand.platform.transactions import DBSession

router = ServiceRouter(prefix="/api/v1", tags=["concerts"])
CONCERT_PAGE = page_shape(ConcertRead)
ATTENDEE_PAGE = page_shape(Attendee)
MY_CONCERT_PAGE = page_shape(MyConcert)

Upcoming = Annotated[
    bool | None,
    Query(description="true: concerts not started yet; false: concerts already started"),
]


@router.get("/concerts", response_model=Page[ConcertRead], summary="The concert calendar")
async def list_concerts(
    session: DBSession,
    request: Request,
    pagination: Pagination,
    viewer: OptionalUser,
    city: Annotated[CityFilter | None, Query(description="Exact city, any case")] = None,
    date_from: Annotated[DateBound | None, Query(description="Starts at or after")] = None,
    date_to: Annotated[
        DateBound | None, Query(description="Starts at or before (a date: that whole day)")
    ] = None,
    upcoming: Upcoming = None,
    ordering: Annotated[Ordering, Query(description="By start time")] = "date",
) -> Response:
    filters = concert_filters(
        city=city, date_from=date_from, date_to=date_to, upcoming=upcoming, ordering=ordering
    )
    page = await concert_service.page(session, filters, pagination, request, viewer)
    return CONCERT_PAGE.response(page)


concerts = AdminResource(
    "/concerts", "concert", int, ConcertRead, concert_service, present=concert_service.view
)
concerts.add_create(router, ConcertCreate, "Add a concert (admin)")


# Public (a signed-in viewer also sees their attendance): not `AdminResource.add_get`.
@router.get("/concerts/{concert_id}", response_model=ConcertRead, summary="One concert")
async def get_concert(concert_id: int, session: DBSession, viewer: OptionalUser) -> ConcertRead:
    concert = await concert_service.get(session, concert_id)
    return await concert_service.view(session, concert, viewer)


concerts.add_replace(router, ConcertCreate, "Replace a concert (admin)")
concerts.add_patch(router, ConcertUpdate, "Change a concert (admin)")
concerts.add_delete(router, "Delete a concert and its attendance (admin)")


@router.get(
    "/concerts/{concert_id}/attendance",
    response_model=MyAttendance,
    summary="The caller's own attendance",
)
async def get_my_attendance(concert_id: int, user: CurrentUser, session: DBSession) -> MyAttendance:
    return await concert_service.my_attendance(session, concert_id, user.id)


@router.put(
    "/concerts/{concert_id}/attendance",
    response_model=MyAttendance,
    summary='Set the caller\'s own attendance ("-" withdraws it)',
)
async def set_my_attendance(
    concert_id: int, data: AttendanceUpdate, user: CurrentUser, session: DBSession
) -> MyAttendance:
    return await concert_service.set_attendance(session, concert_id, user.id, data.status)


@router.get(
    "/concerts/{concert_id}/attendees",
    response_model=Page[Attendee],
    summary="Who answered about a concert (admin)",
)
async def list_attendees(
    concert_id: int,
    _admin: AdminUser,
    session: DBSession,
    request: Request,
    pagination: Pagination,
    status: StoredStatus | None = None,
) -> Response:
    page = await concert_service.attendees_page(
        session, concert_id, pagination, request, status=status
    )
    return ATTENDEE_PAGE.response(page)


@router.get(
    "/me/concerts",
    response_model=Page[MyConcert],
    summary="The concerts the caller answered about, by start time",
)
async def list_my_concerts(
    user: CurrentUser,
    session: DBSession,
    request: Request,
    pagination: Pagination,
    status: StoredStatus | None = None,
    upcoming: Upcoming = None,
) -> Response:
    page = await concert_service.my_concerts_page(
        session, user.id, pagination, request, status=status, upcoming=upcoming
    )
    return MY_CONCERT_PAGE.response(page)
