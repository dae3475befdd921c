"""``@ofa_method``: expose a method of an app so other OpenFactory assets can call it.

The decorated function is returned unchanged (it stays a normal method, callable directly);
its ``MethodSpec`` is attached as ``func.__ofa_method__`` and the platform library's record of
it as ``func._ofa_method_metadata``. ``collect_methods`` gathers the specs of a class and its
bases.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from openfactory.commands.arguments import ArgumentConverter, signature_parameters
from openfactory.transport.wire import COMMAND_SUFFIX

F = TypeVar("F", bound=Callable[..., Any])
SPEC_ATTRIBUTE = "__ofa_method__"
# Where the platform library keeps what it knows of a decorated method (reference 3.3).
METADATA_ATTRIBUTE = "_ofa_method_metadata"


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
        return _contract(self.description, self.arguments)

    def contract_json(self) -> str:
        """``contract()`` as the JSON text published as the attribute VALUE."""
        return _contract_text(self.description, self.arguments)


@functools.lru_cache(maxsize=1024)
def _contract_text(description: str, arguments: tuple[tuple[str, str], ...]) -> str:
    # Published by every app built (a test builds many): encoded once per contract.
    return json.dumps(_contract(description, arguments))


def _contract(description: str, arguments: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {
        "description": description,
        "arguments": [{"name": name, "description": text} for name, text in arguments],
    }


def ofa_method(
    name: str | None = None,
    description: str | None = None,
    param_description: Mapping[str, str] | None = None,
    *,
    args: Mapping[str, str] | None = None,
) -> Callable[[F], F]:
    """Decorator factory registering a method as callable over OpenFactory (``@ofa_method()``).

    ``name`` defaults to the function name; ``description`` (stripped) to the function's whole
    docstring; a parameter's description comes from ``param_description`` (``args`` is its
    former name), else from ``Annotated[T, "text"]``. The function is returned unchanged, with
    ``func._ofa_method_metadata`` (the platform library's record of it) attached.

    Raises ``TypeError`` when used without parentheses, on a function commands cannot call
    (no ``self``, ``*args``, ``**kwargs``, positional-only parameters), or given a bad name,
    description or parameter descriptions. Describing a parameter the function does not have
    only warns (``UserWarning``): the platform library ignores it.
    """
    if callable(name):
        raise TypeError(
            "@ofa_method must be called with parentheses: use @ofa_method() on "
            f"{getattr(name, '__qualname__', name)!r}"
        )
    if name is not None:
        _check_name(name)
    if description is not None and not isinstance(description, str):
        raise TypeError(f"@ofa_method(description=...) must be a str, got {description!r}")
    if args is not None and param_description is not None:
        raise TypeError("@ofa_method takes param_description= or its former name args=, not both")
    described = _check_descriptions(param_description if args is None else args)
    # The class body being executed and the scope around it: where annotations naming
    # local classes (a test's Enum, say) are found when annotations are strings.
    caller = sys._getframe(1)
    localns = {**(caller.f_back.f_locals if caller.f_back else {}), **caller.f_locals}

    def decorate(func: F) -> F:
        spec = _build_spec(func, name, description, described, localns)
        setattr(func, SPEC_ATTRIBUTE, spec)
        setattr(func, METADATA_ATTRIBUTE, _metadata(func, spec))
        return func

    return decorate


def method_spec(obj: Any) -> MethodSpec | None:
    """The ``MethodSpec`` attached by ``@ofa_method`` to ``obj``, or None."""
    spec = getattr(obj, SPEC_ATTRIBUTE, None)
    return spec if isinstance(spec, MethodSpec) else None


def collect_methods(cls: type) -> dict[str, MethodSpec]:
    """OpenFactory name -> ``MethodSpec`` for every ``@ofa_method`` of ``cls`` and its bases,
    base-most first; each name once, from its most derived decorated definition.

    A subclass can redefine a method: decorated again, its new registration wins (also over an
    inherited method of another attribute exposed under the same name, which then stays a
    plain Python method); without the decorator, the inherited registration (name, contract,
    argument types) stays and commands call the override; assigned a non-function
    (``move = None``), the method is withdrawn. Raises ``TypeError`` if two methods of one
    class body register the same name.
    """
    if not isinstance(cls, type):
        raise TypeError(f"collect_methods() takes a class, got {cls!r}")
    # attribute -> (its spec, the MRO depth of the class that decorated it)
    by_attribute: dict[str, tuple[MethodSpec, int]] = {}
    for depth, klass in enumerate(reversed(cls.__mro__)):
        for attribute, value in vars(klass).items():
            spec = method_spec(value)
            if spec is not None:
                by_attribute[attribute] = (
                    dataclasses.replace(spec, function_name=attribute),
                    depth,
                )
            elif attribute in by_attribute:
                inherited, decorated_at = by_attribute.pop(attribute)
                if inspect.isfunction(value):
                    by_attribute[attribute] = (
                        dataclasses.replace(
                            inherited, function=value, is_async=inspect.iscoroutinefunction(value)
                        ),
                        decorated_at,
                    )
    methods: dict[str, tuple[MethodSpec, int]] = {}
    for attribute, (spec, depth) in by_attribute.items():
        other = methods.get(spec.name)
        if other is not None and other[1] == depth:
            raise TypeError(
                f"{cls.__qualname__}: methods {other[0].function_name!r} and {attribute!r} "
                f"both register the OpenFactory method {spec.name!r}; give one another name "
                "with @ofa_method(name=...)"
            )
        if other is None or depth > other[1]:
            methods[spec.name] = (spec, depth)
    return {name: spec for name, (spec, _depth) in methods.items()}


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
    if not params:
        raise TypeError(
            f"{where}: it takes no parameters; the first parameter must be 'self' "
            "(an app instance method)"
        )
    if params[0].name != "self":
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
    if params[0].kind not in (params[0].POSITIONAL_OR_KEYWORD, params[0].POSITIONAL_ONLY):
        raise TypeError(f"{where}: 'self' must come before any '*' in the signature")
    parameters = signature_parameters(func, localns)
    known = [p.name for p in parameters]
    strays = [key for key in args if key not in known]
    if strays:
        warnings.warn(
            f"{where}: param_description describes {', '.join(map(repr, strays))} which "
            f"{'is not a parameter' if len(strays) == 1 else 'are not parameters'} "
            f"(parameters: {', '.join(map(repr, known)) or 'none'}); ignored",
            UserWarning,
            stacklevel=4,
        )
    method_name = func.__name__ if name is None else name
    _check_name(method_name)
    return MethodSpec(
        name=method_name,
        function_name=func.__name__,
        description=_description(func, description),
        arguments=tuple((p.name, args.get(p.name, p.description).strip()) for p in parameters),
        converter=ArgumentConverter(parameters),
        is_async=inspect.iscoroutinefunction(func),
        function=func,
    )


def _metadata(func: Callable[..., Any], spec: MethodSpec) -> dict[str, Any]:
    """``func._ofa_method_metadata`` as the platform library builds it: raw annotations and
    defaults (``None`` when absent), in declaration order, ``self`` excluded."""
    described = dict(spec.arguments)
    empty = inspect.Parameter.empty
    return {
        "method_name": spec.name,
        "description": spec.description,
        "parameters": {
            p.name: {
                "annotation": None if p.annotation is empty else p.annotation,
                "default": None if p.default is empty else p.default,
                "required": p.default is empty,
                "description": described[p.name],
            }
            for p in list(inspect.signature(func).parameters.values())[1:]
        },
    }


def _description(func: Callable[..., Any], description: str | None) -> str:
    if description:
        return description.strip()
    return (inspect.getdoc(func) or "").strip()


def _check_descriptions(described: object) -> dict[str, str]:
    if described is None:
        return {}
    if not isinstance(described, Mapping):
        raise TypeError(
            "@ofa_method(param_description=...) must map parameter names to descriptions, "
            f"got {described!r}"
        )
    for key, text in described.items():
        if not isinstance(key, str) or not isinstance(text, str):
            raise TypeError(
                "@ofa_method(param_description=...) must map str parameter names to str "
                f"descriptions, got {key!r}: {text!r}"
            )
    return dict(described)


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
