"""Convert the string arguments of a command to the annotated types of a method's parameters.

Everything that can be decided from the signature (types, defaults, the pydantic validator)
is decided once per method in ``ArgumentConverter.from_function``; ``convert`` is one
pydantic validation of a small dict.

How a string becomes a value: scalars (int, float, bool, Decimal, UUID, datetime, date, ...)
are parsed by pydantic in lax mode (bool takes ``true``/``false``/``1``/``0``/``yes``/``no``);
an Enum or a Literal is looked up by the string form of its values; containers (list, dict,
tuple, set), pydantic models, dataclasses and TypedDicts are given as JSON text; for an
Optional parameter the text ``null`` means None. Unannotated and ``Any`` parameters get the
string unchanged. Arguments the method does not take are ignored (as the platform does: a
caller sending one expects the method to run); ``unknown`` names them so that they can be
reported.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Annotated, Any, Literal, NotRequired, Required, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Json, TypeAdapter
from pydantic import ValidationError as _ValidationError

# pydantic needs typing_extensions.TypedDict before Python 3.12
from typing_extensions import TypedDict, is_typeddict

_STRUCTURED_ORIGINS = frozenset(
    {
        list,
        dict,
        tuple,
        set,
        frozenset,
        collections.abc.Sequence,
        collections.abc.MutableSequence,
        collections.abc.Mapping,
        collections.abc.MutableMapping,
        collections.abc.Set,
        collections.abc.MutableSet,
        collections.abc.Collection,
        collections.abc.Iterable,
    }
)
_NO_DEFAULT = inspect.Parameter.empty
# Typing constructs applied to run-time values: typed Any so checkers accept the subscripts.
_Json: Any = Json
_Union: Any = Union
_Annotated: Any = Annotated
_TypedDict: Any = TypedDict
_MAX_REPR = 60


class ArgumentError(ValueError):
    """Command arguments that do not fit a method's signature.

    ``missing`` and ``invalid`` (name -> reason) hold every problem found; ``unknown`` the
    arguments the method does not take (ignored, named to help spot a misspelt one).
    """

    def __init__(
        self,
        missing: tuple[str, ...] = (),
        unknown: tuple[str, ...] = (),
        invalid: Mapping[str, str] | None = None,
        allowed: tuple[str, ...] = (),
    ) -> None:
        self.missing = missing
        self.unknown = unknown
        self.invalid = dict(invalid or {})
        self.allowed = allowed
        problems = []
        if missing:
            problems.append(f"missing required argument(s): {_names(missing)}")
        problems.extend(self.invalid.values())
        if unknown:
            problems.append(unknown_text(unknown, allowed))
        super().__init__("; ".join(problems))


@dataclasses.dataclass(frozen=True, slots=True)
class Parameter:
    """One method parameter as commands see it: name, annotated type, default, description."""

    name: str
    annotation: Any
    default: Any = _NO_DEFAULT
    description: str = ""

    @property
    def required(self) -> bool:
        """True when a command must give this argument."""
        return self.default is _NO_DEFAULT


class ArgumentConverter:
    """Converts the ``{name: str}`` arguments of a command into the keyword arguments of a call."""

    __slots__ = ("_adapter", "_defaults", "_names", "_type_text", "parameters")

    def __init__(self, parameters: tuple[Parameter, ...]) -> None:
        self.parameters = parameters
        self._names = tuple(p.name for p in parameters)
        self._defaults = {p.name: p.default for p in parameters if not p.required}
        self._type_text = {p.name: type_text(p.annotation) for p in parameters}
        fields = {
            p.name: (Required if p.required else NotRequired)[_wire_type(p.annotation)]
            for p in parameters
        }
        schema = _TypedDict("CommandArguments", fields, total=False)
        schema.__pydantic_config__ = ConfigDict(extra="ignore")
        self._adapter: TypeAdapter[dict[str, Any]] = TypeAdapter(schema)

    @classmethod
    def from_function(
        cls, func: Callable[..., Any], localns: Mapping[str, Any] | None = None
    ) -> ArgumentConverter:
        """Build the converter of ``func`` from its signature (a leading ``self`` is skipped).

        ``localns`` resolves string annotations naming local classes. Raises ``TypeError``
        for ``*args``, ``**kwargs``, positional-only parameters or an unresolvable annotation.
        """
        return cls(signature_parameters(func, localns))

    @property
    def names(self) -> tuple[str, ...]:
        """The parameter names, in signature order."""
        return self._names

    def unknown(self, arguments: Mapping[str, Any]) -> tuple[str, ...]:
        """The names in ``arguments`` that are no parameter of the method, in their order."""
        names = self._names
        return tuple(name for name in arguments if name not in names)

    def convert(self, arguments: Mapping[str, str]) -> dict[str, Any]:
        """Convert ``arguments`` and add the defaults of the missing optional parameters;
        arguments the method does not take are left out.

        Raises ``ArgumentError`` listing every missing and unconvertible argument (and the
        unknown ones, which alone are no error).
        """
        try:
            converted = self._adapter.validate_python(arguments)
        except _ValidationError as err:
            raise self._error(err, arguments) from None
        if len(converted) < len(self._names):
            for name, default in self._defaults.items():
                converted.setdefault(name, default)
        return converted

    def _error(self, err: _ValidationError, arguments: Any) -> ArgumentError:
        missing: list[str] = []
        unknown = self.unknown(arguments) if isinstance(arguments, Mapping) else ()
        invalid: dict[str, str] = {}
        for error in err.errors(include_url=False):
            loc = error["loc"]
            if not loc:
                invalid[""] = (
                    f"arguments must be a mapping of name -> string, got {_short(arguments)}"
                )
                continue
            name = str(loc[0])
            if len(loc) == 1 and error["type"] == "missing":
                missing.append(name)
            elif name not in invalid:
                detail = _reason(error)
                if len(loc) > 1:
                    where = "".join(f"[{part!r}]" for part in loc[1:])
                    detail = f"at {where}: {detail} (got {_short(error['input'])})"
                    if error["type"] == "missing":
                        detail = f"at {where}: Field required"
                invalid[name] = (
                    f"argument {name!r}: cannot convert {_short(arguments[name])} "
                    f"to {self._type_text[name]}: {detail}"
                )
        return ArgumentError(tuple(missing), unknown, invalid, self._names)


def signature_parameters(
    func: Callable[..., Any], localns: Mapping[str, Any] | None = None
) -> tuple[Parameter, ...]:
    """The command parameters of ``func``: its signature minus a leading ``self``.

    Raises ``TypeError`` for ``*args``, ``**kwargs``, positional-only parameters or an
    annotation that cannot be resolved.
    """
    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name == "self":
        params = params[1:]
    try:
        hints = typing.get_type_hints(func, localns=dict(localns or {}), include_extras=True)
    except Exception as err:
        raise TypeError(
            f"cannot resolve the type annotations of {func.__qualname__}: {err}; "
            "define the types it uses at module level"
        ) from None
    found = []
    for param in params:
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            raise TypeError(f"{func.__qualname__}: *{param.name} cannot receive command arguments")
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            raise TypeError(f"{func.__qualname__}: **{param.name} cannot receive command arguments")
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise TypeError(
                f"{func.__qualname__}: positional-only parameter {param.name!r} cannot receive "
                "command arguments (they are passed by name)"
            )
        annotation = hints.get(param.name, str)
        found.append(
            Parameter(param.name, annotation, param.default, annotation_description(annotation))
        )
    return tuple(found)


def annotation_description(annotation: Any) -> str:
    """``"text"`` for ``Annotated[T, "text", ...]`` (a str first in the metadata), else ``""``."""
    if typing.get_origin(annotation) is Annotated:
        first = annotation.__metadata__[0]
        if isinstance(first, str):
            return first
    return ""


def type_text(annotation: Any) -> str:
    """A short readable name of a type for error messages (``int``, ``list[int]``, ``Color``)."""
    if typing.get_origin(annotation) is Annotated:
        return type_text(annotation.__origin__)
    if isinstance(annotation, type) and not typing.get_args(annotation):
        if issubclass(annotation, Enum):
            values = ", ".join(repr(m.value) for m in annotation)
            return f"{annotation.__name__} (one of {values})"
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _wire_type(annotation: Any) -> Any:
    """The pydantic type that turns the wire string into a value of ``annotation``."""
    metadata: tuple[Any, ...] = ()
    if typing.get_origin(annotation) is Annotated:
        metadata = tuple(m for m in annotation.__metadata__ if not isinstance(m, str))
        annotation = annotation.__origin__
    wire = _wire_base(annotation)
    return _Annotated[(wire, *metadata)] if metadata else wire


def _wire_base(annotation: Any) -> Any:
    if annotation in (Any, object, str):
        return str
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) < len(typing.get_args(annotation)):
            inner = members[0] if len(members) == 1 else _Union[tuple(members)]
            if _is_structured(inner):
                return _Json[annotation]
            return _Annotated[_wire_base(inner) | None, BeforeValidator(_null_to_none)]
        if any(_is_structured(m) for m in members):
            return _Json[annotation]
        return _Annotated[
            _Union[tuple(_wire_base(m) for m in members)],
            Field(union_mode="left_to_right"),
        ]
    if origin is Literal:
        return _Annotated[annotation, BeforeValidator(_lookup(typing.get_args(annotation)))]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _Annotated[annotation, BeforeValidator(_lookup(tuple(annotation)))]
    if _is_structured(annotation):
        return _Json[annotation]
    return annotation


def _is_structured(annotation: Any) -> bool:
    origin = typing.get_origin(annotation) or annotation
    if origin is Annotated:
        return _is_structured(annotation.__origin__)
    if origin in _STRUCTURED_ORIGINS:
        return True
    if isinstance(origin, type):
        return (
            issubclass(origin, BaseModel)
            or dataclasses.is_dataclass(origin)
            or is_typeddict(origin)
        )
    return False


def _lookup(choices: tuple[Any, ...]) -> Callable[[Any], Any]:
    """A before-validator mapping the string form of each choice's value to the choice."""
    table: dict[str, Any] = {}
    for choice in choices:
        value = choice.value if isinstance(choice, Enum) else choice
        if isinstance(value, bool):
            table[str(value).lower()] = choice
        table.setdefault(str(value), choice)

    def lookup(text: Any) -> Any:
        return table.get(text, text) if isinstance(text, str) else text

    return lookup


def _null_to_none(text: Any) -> Any:
    return None if text == "null" else text


def _reason(error: Any) -> str:
    if error["type"] == "json_invalid":
        return f"not valid JSON ({error['ctx']['error']})" if "ctx" in error else error["msg"]
    return str(error["msg"])


def unknown_text(unknown: tuple[str, ...], allowed: tuple[str, ...]) -> str:
    """How arguments a method does not take are reported: named, with the ones it takes."""
    takes = _names(allowed) if allowed else "no arguments"
    return f"ignored argument(s) {_names(unknown)} (the method takes: {takes})"


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(repr(n) for n in names)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."
