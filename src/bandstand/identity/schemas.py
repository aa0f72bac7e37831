"""Identity's request and response bodies. No client field can set an id, role or timestamp."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    model_validator,
)

from bandstand.platform.schemas import StorableText, StrictBody, UTCDatetime

Username = Annotated[
    str,
    StorableText(strip_whitespace=True, min_length=3, max_length=150, pattern=r"^[\w.@+-]+$"),
]
Password = Annotated[str, StorableText(min_length=8, max_length=128)]
Name = Annotated[str, StorableText(strip_whitespace=True, max_length=150)]
LoginName = Annotated[str, StorableText(min_length=1, max_length=254)]
"""A username or an email as typed at login."""
GivenPassword = Annotated[str, StorableText(min_length=1, max_length=128)]
"""A password as typed, to check against the stored hash."""
TokenText = Annotated[str, StorableText(min_length=1, max_length=512)]
Role = Literal["user", "instructor", "admin"]


class UserCreate(StrictBody):
    username: Username
    email: EmailStr = Field(max_length=254)
    password: Password
    password_confirm: Annotated[str, StorableText(max_length=128)] | None = None
    first_name: Name = ""
    last_name: Name = ""

    @model_validator(mode="after")
    def _passwords_agree(self) -> UserCreate:
        if self.password_confirm is not None and self.password_confirm != self.password:
            raise ValueError("password_confirm does not match password")
        return self


class ProfileUpdate(StrictBody):
    username: Username | None = None
    email: EmailStr | None = Field(None, max_length=254)
    first_name: Name | None = None
    last_name: Name | None = None


class AdminUserUpdate(ProfileUpdate):
    role: Role | None = None
    is_active: bool | None = None


class LegacyUserUpdate(AdminUserUpdate):
    """The music player's `PUT /users/{id}` also set a new password."""

    password: Password | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    is_active: bool
    created_at: UTCDatetime
    updated_at: UTCDatetime


class PublicUser(BaseModel):
    """What anyone logged in may see of another account: never its email, role or state."""

    # Forbidding other keys keeps a full record from ever validating as this shape.
    model_config = ConfigDict(from_attributes=True, extra="forbid")

    id: int
    username: str
    first_name: str
    last_name: str


class UserSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str
    role: str


class LoginRequest(StrictBody):
    username: LoginName | None = None
    email: LoginName | None = None
    password: GivenPassword

    @model_validator(mode="after")
    def _has_login(self) -> LoginRequest:
        if not (self.username or self.email):
            raise ValueError("username or email is required")
        return self

    @property
    def login(self) -> str:
        return self.username or self.email or ""


class LegacyLoginRequest(BaseModel):
    email: LoginName
    password: GivenPassword


class RefreshRequest(StrictBody):
    refresh_token: TokenText


class LogoutRequest(StrictBody):
    refresh_token: Annotated[str, StorableText(max_length=512)] | None = None


class PasswordChange(StrictBody):
    current_password: GivenPassword
    new_password: Password


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int


class LoginResponse(TokenPair):
    message: str = "Login successful"
    token: str
    user: UserSummary


class RegisterResponse(BaseModel):
    message: str = "User created successfully"
    user: UserRead


class ProfileResponse(BaseModel):
    user: UserRead


class ProfileUpdated(BaseModel):
    message: str = "Profile updated successfully"
    user: UserRead


class MessageResponse(BaseModel):
    message: str


class LegacyLoginResponse(BaseModel):
    auth_token: str
    user_id: int
    role: str


class DetailResponse(BaseModel):
    detail: str
