"""Admin's request and response bodies (Pydantic v2)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)

from bandstand.platform.schemas import ChangeBody, StorableText, StrictBody, UTCDatetime

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"
RESERVED_KEYS = frozenset({"public"})
"""`/settings/public` is the list of public settings, so no setting may be called that."""


SettingKey = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
Value = Annotated[str, StorableText(max_length=10_000)]
Description = Annotated[str, StorableText(max_length=500)]


class SettingBase(StrictBody):
    pass


class SettingCreate(SettingBase):
    key: SettingKey = Field(description="Letters, digits, `_`, `.` and `-`; at most 100.")
    value: Value
    description: Description = ""
    is_public: StrictBool = False

    @field_validator("key")
    @classmethod
    def _not_reserved(cls, key: str) -> str:
        if key.lower() in RESERVED_KEYS:
            raise ValueError(f"{key!r} is reserved")
        return key


class SettingUpdate(SettingBase, ChangeBody):
    """Any of the fields; at least one."""

    value: Value | None = None
    description: Description | None = None
    is_public: StrictBool | None = None

    @field_validator("value", "description", "is_public", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null")
        return value


class SettingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    value: str
    description: str
    is_public: bool
    created_at: UTCDatetime
    updated_at: UTCDatetime
    updated_by: int | None


class PublicSetting(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    value: str
    description: str
    is_public: bool


class AuditEntryRead(BaseModel):
    """Contract D's entry (`user`, `model_name`, `object_id`, `created_at`: other names of
    our `actor_id`, `target_type`, `target_id` and `occurred_at`) and ours."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user: int | None = Field(validation_alias=AliasChoices("actor_id"))
    action: str
    model_name: str | None = Field(validation_alias=AliasChoices("target_type"))
    object_id: str | None = Field(validation_alias=AliasChoices("target_id"))
    details: dict[str, Any]
    ip_address: str | None
    user_agent: str | None
    created_at: UTCDatetime = Field(validation_alias=AliasChoices("occurred_at"))
    event_id: str
    occurred_at: UTCDatetime
    recorded_at: UTCDatetime
    service: str
    actor_id: int | None
    target_type: str | None
    target_id: str | None


class DayCount(BaseModel):
    date: date
    count: int


class DayOrders(BaseModel):
    date: date
    count: int
    revenue: dict[str, str] = Field(description="Per currency, decimal strings with two places.")


class TopSong(BaseModel):
    song_id: int
    title: str | None
    artist: str | None
    like_count: int


class UserFigures(BaseModel):
    total: int
    new_this_week: int
    new_this_month: int


class ActivityFigures(BaseModel):
    logs_this_week: int
    logins_this_week: int
    orders_completed_this_week: int
    enrolments_this_week: int


class SystemFigures(BaseModel):
    total_settings: int


class Dashboard(BaseModel):
    users: UserFigures
    activity: ActivityFigures
    system: SystemFigures
    timestamp: UTCDatetime
    registrations_per_day: list[DayCount]
    logins_per_day: list[DayCount]
    orders_per_day: list[DayOrders]
    enrolments_per_day: list[DayCount]
    top_songs: list[TopSong]
