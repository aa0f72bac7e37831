"""`LeanRoute`: FastAPI's route, with its dependencies solved by a plan made once per route.

FastAPI solves a route's dependencies anew on every request: for each query parameter it works
out again whether the parameter is a model, a sequence or aliased, and builds the error list
through several layers. On a signed-in list page that was about a quarter of the request's CPU
(five dependencies, a dozen query parameters), where the validation itself is a few
microseconds a parameter. A `LeanRoute` looks at its dependency tree once, when FastAPI builds
its handler, and, where every part of it is one the plan knows, keeps the order to call them in
and each query or path parameter's validator. A request then validates each parameter with
FastAPI's own validator (the same `ModelField`), calls the dependencies and the endpoint, and
answers what the endpoint returned as FastAPI would: a `Response` as it is, anything else
written by the route's response model with the route's status code.

Anything else is FastAPI's. A route whose tree holds a body, headers or cookies as parameters,
a generator or a plain function, a sequence or model parameter, or that streams, is never
planned; a request with a missing or invalid parameter, or made while dependency overrides are
set (tests), is handed to FastAPI's own handler, which answers it as it always does (the 422
naming the field). The OpenAPI document is FastAPI's, from the same route.
"""

from __future__ import annotations

import copy
import enum
import inspect
import typing
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import fastapi.routing
from fastapi import params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter, serialize_response
from fastapi.utils import is_body_allowed_for_status_code
from pydantic import BaseModel, Json
from pydantic.fields import FieldInfo
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class _Invalid(Exception):
    """A parameter is missing or invalid: FastAPI's handler answers the request."""


_MISSING = object()
_IMMUTABLE = (type(None), bool, int, float, str, bytes, enum.Enum)


@dataclass(frozen=True)
class _Parameter:
    name: str
    alias: str
    from_path: bool
    field: Any  # FastAPI's ModelField
    required: bool
    default: Any
    copy_default: bool  # a mutable default is copied for each request, as FastAPI does
    validate_default: bool

    def value(self, query: dict[str, str], path: dict[str, Any]) -> Any:
        raw = (path if self.from_path else query).get(self.alias, _MISSING)
        if raw is _MISSING:
            if self.required:
                raise _Invalid
            value = copy.deepcopy(self.default) if self.copy_default else self.default
            if not self.validate_default:
                return value
            raw = value
        validated, errors = self.field.validate(raw, {}, loc=())
        if errors:
            raise _Invalid
        return validated


@dataclass(frozen=True)
class _Step:
    """One call of the tree: its keyword arguments from the request, parameters and the
    results of the steps before it."""

    call: Callable[..., Awaitable[Any]]
    request_names: tuple[str, ...]  # its parameters typed `Request` or `HTTPConnection`
    parameters: tuple[_Parameter, ...]
    dependencies: tuple[tuple[str, int], ...]  # (argument name, index of the step)


class _Plan:
    def __init__(self, steps: list[_Step]) -> None:
        self.steps = steps

    async def run(self, request: Request) -> Any:
        # Every parameter first: a request FastAPI must answer (an invalid one) calls nothing
        # here, so no dependency runs twice. The query as a plain dict: most parameters are
        # absent, and `QueryParams.get` finds an absent one by catching a `KeyError`.
        query, path = dict(request.query_params.items()), request.path_params
        given = [
            {parameter.name: parameter.value(query, path) for parameter in step.parameters}
            for step in self.steps
        ]
        results: list[Any] = []
        for step, arguments in zip(self.steps, given, strict=True):
            for name in step.request_names:
                arguments[name] = request
            for name, index in step.dependencies:
                arguments[name] = results[index]
            results.append(await step.call(**arguments))
        return results[-1]


class LeanRoute(APIRoute):
    """An `APIRoute` whose requests skip FastAPI's per-request dependency solving where a plan
    made once can do the same (see the module's text)."""

    def get_route_handler(self) -> Handler:
        standard = super().get_route_handler()
        # Built per inclusion, as FastAPI does: an included router's context may add
        # dependencies to the route's own.
        effective = _effective_route(self)
        reads = self.methods is not None and self.methods <= {"GET", "HEAD"}
        plan = plan_of(effective.dependant) if reads and _plain_answers(effective) else None
        if plan is None:
            return standard
        overrides = effective.dependency_overrides_provider
        respond = _responder(effective)

        async def handler(request: Request) -> Response:
            if overrides is not None and getattr(overrides, "dependency_overrides", None):
                return await standard(request)
            try:
                answer = await plan.run(request)
            except _Invalid:
                return await standard(request)
            return await respond(answer)

        return handler


def _plain_answers(route: Any) -> bool:
    """Not a stream: one value, or a `Response`, answered at once."""
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    return not (
        getattr(route, "is_json_stream", False)
        or getattr(route, "stream_item_field", None) is not None
        or (inspect.isclass(response_class) and issubclass(response_class, StreamingResponse))
    )


def _responder(route: Any) -> Callable[[Any], Awaitable[Response]]:
    """What FastAPI makes of an endpoint's return value: a `Response` as it is; anything else
    validated and written by the route's response model, with the route's status code."""
    response_class = route.response_class
    dump_json = route.response_field is not None and isinstance(response_class, DefaultPlaceholder)
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    status = {} if route.status_code is None else {"status_code": route.status_code}

    async def respond(answer: Any) -> Response:
        if isinstance(answer, Response):
            return answer
        content = await serialize_response(
            field=route.response_field,
            response_content=answer,
            include=route.response_model_include,
            exclude=route.response_model_exclude,
            by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none,
            is_coroutine=True,
            dump_json=dump_json,
        )
        if dump_json:
            response = Response(content, media_type="application/json", **status)
        else:
            response = response_class(content, **status)
        if not is_body_allowed_for_status_code(response.status_code):
            response.body = b""
        return response

    return respond


def _effective_route(route: APIRoute) -> Any:
    context_var = getattr(fastapi.routing, "_effective_route_context_var", None)
    context = context_var.get() if context_var is not None else None
    if context is not None and getattr(context, "original_route", None) is route:
        return context
    return route


def plan_of(dependant: Dependant) -> _Plan | None:
    """The plan of `dependant`'s tree, or None where a part of it is not one a plan knows."""
    if not inspect.iscoroutinefunction(dependant.call):
        return None
    steps: list[_Step] = []
    done: dict[Any, int] = {}
    if _add(dependant, steps, done) is None:
        return None
    return _Plan(steps)


def _add(dependant: Dependant, steps: list[_Step], done: dict[Any, int]) -> int | None:
    call = dependant.call
    if call is None or not _plain_coroutine(call) or not _only_known_inputs(dependant):
        return None
    if dependant.use_cache and call in done:
        return done[call]
    dependencies = []
    for sub in dependant.dependencies:
        index = _add(sub, steps, done)
        if index is None or sub.name is None:
            return None
        dependencies.append((sub.name, index))
    parameters = []
    for field in (*dependant.path_params, *dependant.query_params):
        parameter = _parameter(field, from_path=field in dependant.path_params)
        if parameter is None:
            return None
        parameters.append(parameter)
    request_names = tuple(
        name
        for name in (dependant.request_param_name, dependant.http_connection_param_name)
        if name is not None
    )
    steps.append(_Step(call, request_names, tuple(parameters), tuple(dependencies)))
    if dependant.use_cache:
        done[call] = len(steps) - 1
    return len(steps) - 1


def _only_known_inputs(dependant: Dependant) -> bool:
    return not (
        dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.scope == "request"
    )


def _parameter(field: Any, *, from_path: bool) -> _Parameter | None:
    info: FieldInfo = field.field_info
    expected = params.Path if from_path else params.Query
    if not isinstance(info, expected) or not isinstance(info.validation_alias, str | None):
        return None  # AliasPath, AliasChoices
    annotation = info.annotation
    if _is_sequence_or_model(annotation) or any(type(item) is Json for item in info.metadata):
        return None
    return _Parameter(
        name=field.name,
        alias=field.alias,
        from_path=from_path,
        field=field,
        required=info.is_required(),
        default=field.default,
        copy_default=not isinstance(field.default, _IMMUTABLE),
        validate_default=bool(info.validate_default),
    )


def _is_sequence_or_model(annotation: Any) -> bool:
    for candidate in (annotation, *typing.get_args(annotation)):
        origin = typing.get_origin(candidate) or candidate
        if inspect.isclass(origin) and (
            issubclass(origin, BaseModel)
            or (origin not in (str, bytes) and issubclass(origin, (list, tuple, set, frozenset)))
        ):
            return True
    return False


def _plain_coroutine(call: Callable[..., Any]) -> bool:
    if inspect.isasyncgenfunction(call) or inspect.isgeneratorfunction(call):
        return False
    if inspect.iscoroutinefunction(call):
        return True
    dunder = getattr(call, "__call__", None)  # noqa: B004 (an instance with an async __call__)
    return (
        not inspect.isfunction(call)
        and dunder is not None
        and inspect.iscoroutinefunction(dunder)
        and not inspect.isasyncgenfunction(dunder)
    )


class ServiceRouter(APIRouter):
    """FastAPI's router, its routes `LeanRoute`s: the router every service declares routes on."""

    def __init__(self, **options: Any) -> None:
        super().__init__(route_class=LeanRoute, **options)
