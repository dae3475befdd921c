"""``@ofa_method``: expose a method of an app so other OpenFactory assets can call it.

The decorated function is returned unchanged (it stays a normal method, callable directly);
its ``MethodSpec`` is attached as ``func.__ofa_method__``. ``collect_methods`` gathers the
specs of a class and its bases.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from openfactory.commands.arguments import ArgumentConverter, signature_parameters
from openfactory.transport.wire import COMMAND_SUFFIX

F = TypeVar("F", bound=Callable[..., Any])
SPEC_ATTRIBUTE = "__ofa_method__"


@dataclasses.dataclass(frozen=True, slots=True)
class MethodSpec:
    """What ``@ofa_method`` knows about one method: its OpenFactory name, contract and converter.

    ``function`` is the function commands call (bound to the app at dispatch time); after an
    undecorated override in a subclass it is the override.
    """

    name: str
    function_name: str
    description: str
    arguments: tuple[tuple[str, str], ...]
    converter: ArgumentConverter
    is_async: bool
    function: Callable[..., Any] = dataclasses.field(repr=False, compare=False)

    def contract(self) -> dict[str, Any]:
        """The attribute VALUE: ``{"description": ..., "arguments": [{"name", "description"}]}``."""
        return {
            "description": self.description,
            "arguments": [{"name": name, "description": text} for name, text in self.arguments],
        }

    def contract_json(self) -> str:
        """``contract()`` as the JSON text published as the attribute VALUE."""
        return json.dumps(self.contract())


def ofa_method(
    name: str | None = None,
    description: str | None = None,
    args: Mapping[str, str] | None = None,
) -> Callable[[F], F]:
    """Decorator factory registering a method as callable over OpenFactory (``@ofa_method()``).

    ``name`` defaults to the function name, ``description`` to the docstring's first paragraph,
    parameter descriptions come from ``args`` or ``Annotated[T, "text"]``. Raises ``TypeError``
    when used without parentheses or given a bad name, description or ``args``.
    """
    if callable(name):
        raise TypeError("@ofa_method must be called with parentheses: use @ofa_method()")
    if name is not None:
        _check_name(name)
    if description is not None and not isinstance(description, str):
        raise TypeError(f"@ofa_method(description=...) must be a str, got {description!r}")
    if args is not None:
        if not isinstance(args, Mapping):
            raise TypeError(
                f"@ofa_method(args=...) must map parameter names to descriptions, got {args!r}"
            )
        for key, text in args.items():
            if not isinstance(key, str) or not isinstance(text, str):
                raise TypeError(
                    f"@ofa_method(args=...) must map str parameter names to str descriptions, "
                    f"got {key!r}: {text!r}"
                )
    # The class body being executed and the scope around it: where annotations naming
    # local classes (a test's Enum, say) are found when annotations are strings.
    caller = sys._getframe(1)
    localns = {**(caller.f_back.f_locals if caller.f_back else {}), **caller.f_locals}

    def decorate(func: F) -> F:
        spec = _build_spec(func, name, description, dict(args or {}), localns)
        setattr(func, SPEC_ATTRIBUTE, spec)
        return func

    return decorate


def method_spec(obj: Any) -> MethodSpec | None:
    """The ``MethodSpec`` attached by ``@ofa_method`` to ``obj``, or None."""
    spec = getattr(obj, SPEC_ATTRIBUTE, None)
    return spec if isinstance(spec, MethodSpec) else None


def collect_methods(cls: type) -> dict[str, MethodSpec]:
    """OpenFactory name -> ``MethodSpec`` for every ``@ofa_method`` of ``cls`` and its bases.

    A subclass can redefine a method: decorated again, its new registration wins; without the
    decorator, the inherited registration (name, contract, argument types) stays and commands
    call the override; assigned a non-function (``move = None``), the method is withdrawn.
    Raises ``TypeError`` if two methods register the same name.
    """
    if not isinstance(cls, type):
        raise TypeError(f"collect_methods() takes a class, got {cls!r}")
    by_attribute: dict[str, MethodSpec] = {}
    for klass in reversed(cls.__mro__):
        for attribute, value in vars(klass).items():
            spec = method_spec(value)
            if spec is not None:
                by_attribute[attribute] = dataclasses.replace(spec, function_name=attribute)
            elif attribute in by_attribute:
                inherited = by_attribute.pop(attribute)
                if inspect.isfunction(value):
                    by_attribute[attribute] = dataclasses.replace(
                        inherited, function=value, is_async=inspect.iscoroutinefunction(value)
                    )
    methods: dict[str, MethodSpec] = {}
    for attribute, spec in by_attribute.items():
        other = methods.get(spec.name)
        if other is not None:
            raise TypeError(
                f"{cls.__qualname__}: methods {other.function_name!r} and {attribute!r} both "
                f"register the OpenFactory method {spec.name!r}; give one another name with "
                "@ofa_method(name=...)"
            )
        methods[spec.name] = spec
    return methods


def _build_spec(
    func: Any,
    name: str | None,
    description: str | None,
    args: dict[str, str],
    localns: Mapping[str, Any],
) -> MethodSpec:
    if isinstance(func, staticmethod | classmethod) or not inspect.isfunction(func):
        raise TypeError(
            f"@ofa_method() decorates instance methods defined with def or async def, got {func!r}"
        )
    where = f"@ofa_method() on {func.__qualname__}"
    params = list(inspect.signature(func).parameters.values())
    if not params or params[0].name != "self":
        raise TypeError(f"{where}: the first parameter must be 'self' (an app instance method)")
    for param in params[1:]:
        star = "*" if param.kind is param.VAR_POSITIONAL else "**"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(
                f"{where}: {star}{param.name} is not allowed; commands pass named arguments, "
                "so declare each one as a parameter"
            )
        if param.kind is param.POSITIONAL_ONLY:
            raise TypeError(
                f"{where}: positional-only parameter {param.name!r} is not allowed; "
                "remove the '/' from the signature"
            )
    if params[0].kind is not params[0].POSITIONAL_OR_KEYWORD:
        raise TypeError(f"{where}: 'self' must be an ordinary parameter (remove '/' or '*')")
    parameters = signature_parameters(func, localns)
    known = [p.name for p in parameters]
    strays = sorted(set(args) - set(known))
    if strays:
        raise TypeError(
            f"{where}: args= describes {', '.join(map(repr, strays))} which "
            f"{'is not a parameter' if len(strays) == 1 else 'are not parameters'} "
            f"(parameters: {', '.join(map(repr, known)) or 'none'})"
        )
    method_name = func.__name__ if name is None else name
    _check_name(method_name)
    return MethodSpec(
        name=method_name,
        function_name=func.__name__,
        description=_first_paragraph(func.__doc__) if description is None else description,
        arguments=tuple((p.name, args.get(p.name, p.description)) for p in parameters),
        converter=ArgumentConverter(parameters),
        is_async=inspect.iscoroutinefunction(func),
        function=func,
    )


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise TypeError(f"@ofa_method(name=...) must be a str, got {name!r}")
    if not name or any(ch.isspace() for ch in name):
        raise TypeError(
            f"@ofa_method name {name!r} is not a valid attribute id: "
            "use a non-empty name without whitespace"
        )
    if name.endswith(COMMAND_SUFFIX):
        raise TypeError(
            f"@ofa_method name {name!r} must not end with {COMMAND_SUFFIX!r}: that suffix is "
            "reserved for the attribute commands are sent on; choose another name"
        )


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    paragraph = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines())
