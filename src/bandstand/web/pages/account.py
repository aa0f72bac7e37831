"""Pages: sign up, log in, log out, and the visitor's own account."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.web.forms import form_values, safe_next
from bandstand.web.visit import PageVisit

router = ServiceRouter(include_in_schema=False)
PROFILE_FIELDS = ("username", "email", "first_name", "last_name")


@router.get("/login")
async def login_page(visit: PageVisit, next: str | None = None) -> Response:
    if visit.user is not None:
        return visit.redirect(safe_next(next))
    return visit.page("account/login.html", next=safe_next(next, ""), values={}, errors={})


@router.post("/login")
async def log_in(visit: PageVisit, request: Request) -> Response:
    values = await form_values(request)
    login = values.get("login", "")
    target = safe_next(values.get("next"))
    errors: dict[str, str] = {}
    if not login:
        errors["login"] = "Enter your username or email."
    if not values.get("password"):
        errors["password"] = "Enter your password."  # noqa: S105 (a message)
    if not errors:
        field = "email" if "@" in login else "username"
        answer = await visit.call(
            "POST", "/api/v1/login", json_body={field: login, "password": values["password"]}
        )
        if answer.ok:
            response = visit.redirect(target, f"Welcome back, {answer.body['user']['username']}.")
            await visit.state.sessions.begin(answer.body, response, request)
            return response
        if answer.status == 429:
            errors[""] = "Too many attempts. Wait a minute and try again."
        elif answer.status in (400, 401, 422):
            errors[""] = "Wrong username, email or password."
        else:
            errors[""] = answer.detail()
    return visit.page(
        "account/login.html",
        status_code=400 if errors.get("") is None else 401,
        next=target,
        values={"login": login},
        errors=errors,
    )


@router.get("/signup")
async def signup_page(visit: PageVisit) -> Response:
    if visit.user is not None:
        return visit.redirect("/")
    return visit.page("account/signup.html", values={}, errors={})


@router.post("/signup")
async def sign_up(visit: PageVisit, request: Request) -> Response:
    values = await form_values(request)
    payload = {name: values.get(name, "") for name in PROFILE_FIELDS}
    errors: dict[str, str] = {}
    if values.get("password", "") != values.get("password_confirm", ""):
        errors["password_confirm"] = "The two passwords differ."  # noqa: S105
    if not errors:
        answer = await visit.call(
            "POST", "/api/v1/register", json_body={**payload, "password": values.get("password")}
        )
        if answer.ok:
            login = await visit.call(
                "POST",
                "/api/v1/login",
                json_body={"username": payload["username"], "password": values.get("password")},
            )
            response = visit.redirect("/", f"Welcome to Bandstand, {payload['username']}.")
            if login.ok:
                await visit.state.sessions.begin(login.body, response, request)
            return response
        errors = answer.field_errors()
    return visit.page("account/signup.html", status_code=400, values=payload, errors=errors)


@router.post("/logout")
async def log_out(visit: PageVisit, request: Request) -> Response:
    response = visit.redirect("/", "You are logged out.")
    await visit.state.sessions.end(request, response)
    return response


@router.get("/account")
async def account_page(visit: PageVisit) -> Response:
    visit.signed_in()
    profile = await visit.get("/api/v1/profile")
    return visit.page("account/account.html", profile=profile["user"], errors={}, values={})


@router.post("/account")
async def update_account(visit: PageVisit, request: Request) -> Response:
    session = visit.signed_in()
    values = await form_values(request)
    changes = {
        name: values.get(name, "") for name in ("username", "email", "first_name", "last_name")
    }
    answer = await visit.call("PUT", "/api/v1/profile", json_body=changes)
    if answer.ok:
        await visit.state.sessions.rename(session, answer.body["user"]["username"])
        return visit.redirect("/account", "Your profile is saved.")
    return visit.page(
        "account/account.html",
        status_code=400,
        profile=changes,
        errors=answer.field_errors(),
        values={},
    )


@router.post("/account/password")
async def change_password(visit: PageVisit, request: Request) -> Response:
    visit.signed_in()
    values = await form_values(request)
    errors: dict[str, str] = {}
    if values.get("new_password", "") != values.get("new_password_confirm", ""):
        errors["new_password_confirm"] = "The new passwords differ."  # noqa: S105
    if not errors:
        answer = await visit.call(
            "POST",
            "/api/v1/profile/password",
            json_body={
                "current_password": values.get("current_password", ""),
                "new_password": values.get("new_password", ""),
            },
        )
        if answer.ok:
            # Identity revokes the sessions of the old password: this one logs in again.
            response = visit.redirect("/login", "Password changed. Log in with the new one.")
            await visit.state.sessions.end(request, response)
            return response
        errors = answer.field_errors()
        if answer.status in (400, 401, 403) and "" in errors:
            errors = {"current_password": errors[""]}
    profile = await visit.get("/api/v1/profile")
    return visit.page(
        "account/account.html", status_code=400, profile=profile["user"], errors=errors, values={}
    )
