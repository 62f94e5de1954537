"""Arguments are checked once, where they enter a session, before any rule runs.

:func:`checked_arguments` decorates a session class: every public method's arguments are
checked against the method's annotations (type *and* range) before its body runs, so no
rule ever compares a raw argument (``"1"`` is not the read ``1``; ``True`` is not an id;
``2**63`` is refused with a sentence instead of overflowing in the database driver).

The rules, by annotation and parameter name:

- ``int`` named ``…id`` (or ``…ids`` in a sequence): a Python ``int`` (not ``bool``) in
  ``1 … MAX_ID`` (PostgreSQL's ``integer``; SQLite's is wider);
- any other ``int``: an ``int`` (not ``bool``) within ±MAX_INT;
- ``float``: an ``int`` or ``float`` (not ``bool``), finite;
- ``str``: a ``str`` of at most :data:`MAX_TEXT` characters, no NUL;
- ``bool``: ``True`` or ``False``;
- a class (an enum, ``Protocol``, ``date``): an instance of it;
- ``X | None``: ``None`` or an ``X``; ``Sequence[X]``: a list or tuple of ``X``.

Annotations it cannot resolve are left unchecked.
"""

from __future__ import annotations

import functools
import inspect
import math
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from myoscore.domain.errors import InvalidValue

MAX_ID = 2**31 - 1
MAX_INT = 2**63 - 1
MAX_TEXT = 10_000

T = TypeVar("T", bound=type)


class InvalidArgument(InvalidValue):
    """An argument of the wrong type or out of range, refused before anything else."""


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _resolve(annotation: object, namespace: dict[str, Any]) -> object:
    if isinstance(annotation, str):
        try:
            return eval(annotation, namespace)
        except Exception:  # an import only for type checkers: leave unchecked
            return None
    return annotation


def _checker(name: str, annotation: object) -> Callable[[object], None] | None:
    """A function that raises :class:`InvalidArgument` for a bad value of ``name``."""
    if annotation is None or annotation is inspect.Parameter.empty or annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(options) < len(typing.get_args(annotation))
        inner = _checker(name, options[0]) if len(options) == 1 else None
        if inner is None:
            return None

        def check_union(value: object) -> None:
            if value is None and optional:
                return
            if value is None:
                raise InvalidArgument(f"{name} must be given, not None")
            assert inner is not None
            inner(value)

        return check_union
    if origin is not None and isinstance(origin, type) and issubclass(origin, Sequence) and origin is not str:
        arguments = typing.get_args(annotation)
        item = arguments[0] if len(arguments) == 1 else Any  # tuple[float, float]: items unchecked
        inner = _checker(name.removesuffix("s") if name.endswith("ids") else name, item)

        def check_sequence(value: object) -> None:
            if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
                raise InvalidArgument(f"{name} must be a list, not {_describe(value)}")
            if inner is not None:
                for element in value:
                    inner(element)

        return check_sequence
    if annotation is bool:
        def check_bool(value: object) -> None:
            if not isinstance(value, bool):
                raise InvalidArgument(f"{name} must be true or false, not {_describe(value)}")

        return check_bool
    if annotation is int:
        is_id = name == "id" or name.endswith("_id")
        low, high = (1, MAX_ID) if is_id else (-MAX_INT, MAX_INT)

        def check_int(value: object) -> None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidArgument(f"{name} must be a whole number, not {_describe(value)}")
            if not low <= value <= high:
                what = "an id from 1 to" if is_id else "a number from -MAX to"
                raise InvalidArgument(f"{name} {value} is out of range (it must be {what} {high})")

        return check_int
    if annotation is float:
        def check_float(value: object) -> None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidArgument(f"{name} must be a number, not {_describe(value)}")
            if not math.isfinite(value):
                raise InvalidArgument(f"{name} must be a finite number, not {value}")

        return check_float
    if annotation is str:
        def check_str(value: object) -> None:
            if not isinstance(value, str):
                raise InvalidArgument(f"{name} must be text, not {_describe(value)}")
            if len(value) > MAX_TEXT or "\x00" in value:
                raise InvalidArgument(f"{name} is too long or holds a NUL character")

        return check_str
    if isinstance(annotation, type):
        def check_instance(value: object) -> None:
            if isinstance(value, bool) and annotation is not bool:
                raise InvalidArgument(f"{name} must be a {annotation.__name__}, not {_describe(value)}")
            if not isinstance(value, annotation):
                raise InvalidArgument(f"{name} must be a {annotation.__name__}, not {_describe(value)}")

        return check_instance
    return None


def _checked(method: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(method)
    namespace = dict(method.__globals__)
    checks = {name: check for name, parameter in signature.parameters.items() if name != "self"
              if (check := _checker(name, _resolve(parameter.annotation, namespace))) is not None}
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidArgument(f"{method.__name__}: {exc}") from None
        for name, value in bound.arguments.items():
            check = checks.get(name)
            if check is not None:
                check(value)
        return method(*args, **kwargs)

    wrapper.__checked_arguments__ = True  # type: ignore[attr-defined]
    return wrapper


F = TypeVar("F", bound=Callable[..., Any])


def checked_function(function: F) -> F:
    """Check a use case function's arguments as :func:`checked_arguments` checks a
    session's methods (for ``app`` functions that take a session as their first argument)."""
    return _checked(function)  # type: ignore[return-value]


def checked_arguments(cls: T) -> T:
    """Check every public method's (and ``__init__``'s) arguments before it runs."""
    for name, member in list(vars(cls).items()):
        if (name.startswith("_") and name != "__init__") or not inspect.isfunction(member):
            continue
        setattr(cls, name, _checked(member))
    return cls
