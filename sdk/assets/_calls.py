"""The platform's calling forms of an asset view, resolved to this SDK's: the arguments of
``method()``, the callable form of a method (``asset.move_axis(sender_uuid=..., x="1")``), and
the positional forms of ``add_attribute`` and ``wait_until`` (reference sections 4.4 to 4.6)."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from numbers import Real
from typing import Any

from openfactory.assets._state import AssetState
from openfactory.assets.attribute import (
    AssetAttribute,
    command_call,
    no_such_method,
    validate_id,
)
from openfactory.errors import CommandError, ConfigurationError
from openfactory.transport import Transport

CommandArguments = Mapping[str, Any] | Iterable[tuple[str, Any]] | None
"""What ``method()`` takes as ``args``: a mapping of name -> value, ``(name, value)`` pairs (the
platform's documented form), or ``None`` for no arguments."""

Comparison = Callable[[Any, Any], bool]


class CommandSender:
    """Sends commands to asset ``asset_id`` (whose methods ``state`` lists): ``<method>_CMD``
    records on ``topic`` through ``transport``."""

    def __init__(self, asset_id: str, state: AssetState, transport: Transport, topic: str) -> None:
        self._asset_id = asset_id
        self._state = state
        self._transport = transport
        self._topic = topic

    def send(self, key: str, method: str, sender_uuid: str, args: CommandArguments) -> str:
        """Publish the command on ``key``; returns its correlation id (see ``Asset.method``).

        Raises ``CommandError`` when the asset has no such method, even after asking ksqlDB
        once, or an argument cannot be sent as a string.
        """
        validate_id("method", method)
        if not self._has_method(method):
            self._state.load()  # a view's feed brings only what was published after it was built
            if not self._has_method(method):
                known = [k for k, v in self._state.snapshot().items() if v.type == "Method"]
                raise no_such_method(self._asset_id, method, known)
        payload, correlation_id = command_call(method, sender_uuid, command_arguments(method, args))
        self._transport.publish(self._topic, key, payload)
        return correlation_id

    def _has_method(self, name: str) -> bool:
        attribute = self._state.get(name)
        return attribute is not None and attribute.type == "Method"


def command_arguments(method: str, args: CommandArguments) -> Mapping[str, Any]:
    """``args`` as a mapping (``None``: none; pairs: a repeated name keeps its last value).

    Raises ``CommandError`` for anything that is neither a mapping nor ``(name, value)`` pairs.
    """
    if args is None:
        return {}
    if isinstance(args, Mapping):
        return args
    if isinstance(args, str | bytes) or not isinstance(args, Iterable):
        raise CommandError(method, _args_help(repr(args)))
    arguments: dict[str, Any] = {}
    for pair in args:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise CommandError(method, _args_help(f"an item {pair!r}"))
        arguments[pair[0]] = pair[1]
    return arguments


def _args_help(got: str) -> str:
    return (
        "args must be (name, value) pairs, e.g. args=[('x', '1'), ('y', '2')], or a mapping "
        f"{{'x': '1'}}, got {got}"
    )


def method_caller(
    call: Callable[[str, str, CommandArguments], str], name: str
) -> Callable[..., str]:
    """The callable form of method ``name``: ``caller(sender_uuid="HMI-1", x="1") -> str``
    calls ``call(name, sender_uuid, [("x", "1")])`` and returns the command's correlation id.

    The caller raises ``ConfigurationError`` (a ``ValueError``) without a ``sender_uuid`` and
    ``TypeError`` for positional arguments.
    """

    def caller(*args: Any, sender_uuid: str | None = None, **arguments: Any) -> str:
        if args:
            raise TypeError(
                f"{name}() takes its arguments by name: {name}(sender_uuid='...', "
                f"<argument>='<value>', ...), got {len(args)} positional argument(s)"
            )
        if not sender_uuid:
            raise ConfigurationError(
                f"sender_uuid must be provided for method execution: "
                f"{name}(sender_uuid='<your asset uuid>', ...)"
            )
        return call(name, sender_uuid, list(arguments.items()))

    caller.__name__ = caller.__qualname__ = name
    return caller


def attribute_to_add(
    first: str | AssetAttribute | None,
    second: AssetAttribute | bool | None,
) -> AssetAttribute:
    """The attribute ``add_attribute`` publishes, with its id, from either form:
    ``(asset_attribute[, wait_to_become_available])`` (the platform's: the id inside) or
    ``(attribute_id, asset_attribute)`` (this SDK's). The caller's object is copied.

    Raises ``ConfigurationError`` naming what is missing or of the wrong type.
    """
    if isinstance(first, AssetAttribute):
        attribute, attribute_id = first, first.id
        if not isinstance(attribute_id, str) or not attribute_id:
            raise ConfigurationError(
                "add_attribute(asset_attribute) needs the attribute's id: build it "
                "AssetAttribute(id='temp', value=..., type=..., tag=...) or call "
                "add_attribute('temp', asset_attribute)"
            )
    elif first is None and isinstance(second, AssetAttribute):
        return attribute_to_add(second, None)
    else:
        if not isinstance(second, AssetAttribute):
            raise ConfigurationError(
                f"add_attribute({first!r}, ...) needs an AssetAttribute, "
                f"got {type(second).__name__}"
            )
        attribute, attribute_id = second, first
    return AssetAttribute(
        value=attribute.value,
        type=attribute.type,
        tag=attribute.tag,
        timestamp=attribute.timestamp,
        id=attribute_id,
    )


def wait_arguments(
    third: Comparison | float, more: tuple[Any, ...], timeout: float, use_ksqlDB: bool
) -> tuple[Comparison, float, bool]:
    """``(comparison, timeout, use_ksqlDB)`` of ``wait_until(id, value, third, *more, ...)``.

    A callable ``third`` is the comparison (then ``more`` may give this SDK's former positional
    ``timeout, use_ksqlDB``); a real number is the platform's 0.5.3 ``timeout`` (then ``more``
    may give ``use_ksqlDB``). Raises ``TypeError`` for anything else.
    """
    if callable(third):
        comparison: Comparison = third
        positional = ("timeout", "use_ksqlDB")
    elif isinstance(third, Real) and not isinstance(third, bool):
        comparison, timeout = operator.eq, float(third)
        positional = ("use_ksqlDB",)
    else:
        raise TypeError(
            f"wait_until's third argument must be a comparison (a callable, e.g. operator.ge) "
            f"or a timeout in seconds, got {third!r}; to set the timeout write "
            f"wait_until(..., timeout=<x>)"
        )
    if len(more) > len(positional):
        raise TypeError(f"wait_until got {len(more)} arguments too many after {third!r}")
    given = dict(zip(positional, more, strict=False))
    return comparison, given.get("timeout", timeout), given.get("use_ksqlDB", use_ksqlDB)
