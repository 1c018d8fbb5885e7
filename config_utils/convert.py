"""The one typed conversion: raw values → declared field types.

Every source of values goes through :func:`convert`: ini/toml/yaml/json files, run records,
W&B runs, OFC file edits and the GUI. Raw values are either text (ini, OFC file, GUI text
boxes) or JSON primitives (json/toml/yaml, W&B, run records); both are accepted for every
supported type, and the *declared* type decides, so ``"1"`` becomes ``1`` for an ``int``
field and stays ``"1"`` for a ``str`` field. Nothing is guessed from the text alone.

:func:`format_value` is the inverse for text: ``convert(format_value(v, tp), tp) == v``.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import json
import math
import re
import sys
import typing
from collections import abc
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePath
from typing import Any, Literal, get_args, get_origin

from .errors import ConversionError
from .types import (
    NoneType,
    describe_type,
    is_config_type,
    is_union,
    strip_annotated,
    unwrap_optional,
)

_COMMENT_START = re.compile(r"\s[#;]")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_NONE_TEXT = {"none", "null", "~"}
_SEQUENCE_ORIGINS = (list, tuple, set, frozenset, abc.Sequence, abc.Set)
# Literal text nested deeper than this is refused before any parser sees it: Python's own
# parser stops at 200 brackets, json at the recursion limit, and nothing in a config is that deep.
MAX_DEPTH = 100
_INF_TEXT = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
_SHOWN = 60

_MAPPING_ORIGINS = (dict, abc.Mapping)


class _Fail(Exception):
    """Internal: this raw value does not fit this type (turned into ConversionError)."""


def convert(raw: Any, tp: Any, *, key: str, where: str, text: bool = True) -> Any:
    """Convert ``raw`` to the declared type ``tp``.

    ``key`` (dotted path) and ``where`` (``defaults.ini:12``, ``wandb:e/p/id``, ``ofc.ini:3``)
    only serve the error message, which names both, the expected type and the value.

    ``text=True`` (ini, OFC file, GUI): a string is text someone typed, so ``"x"`` in quotes
    is ``x`` and ``None`` is None for an Optional field. ``text=False`` (json/toml/yaml, run
    records, W&B): a string is data and stays exactly as it is for a ``str`` field, so that
    ``"'x'"``, ``" x "`` and ``"None"`` survive a round trip.
    """
    try:
        return _convert(raw, tp, text)
    except _Fail as exc:
        detail = f" ({exc})" if str(exc) else ""
        raise ConversionError(
            f"{where}: {key}: expected {describe_type(tp)}, got {shown(raw)}{detail}"
        ) from None
    except (RecursionError, MemoryError, OverflowError):
        raise ConversionError(
            f"{where}: {key}: expected {describe_type(tp)}, got a value too large or too deeply "
            f"nested to convert: {shown(raw)}"
        ) from None


def shown(value: Any) -> str:
    """A value as a message shows it: its repr, cut to one readable line.

    Never fails: an int beyond Python's int-to-text limit (4300 digits) has no repr.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        digits = value.bit_length() * 0.30103
        if digits > 1000:
            return f"an integer of about {int(digits)} digits"
    try:
        text = repr(value)
    except Exception:
        return f"a {type(value).__name__} value"
    if len(text) <= _SHOWN:
        return text
    return text[:_SHOWN] + f"... ({len(text)} characters)"


def outside_quotes(text: str, *, track: bool = True) -> Iterator[tuple[int, str]]:
    """``(index, character)`` of each character of ``text`` outside ``'...'``/``"..."``
    literals (backslash escapes honoured inside them); the quote characters themselves are
    skipped. ``track=False``: quotes mean nothing, every character is given.

    The one quote-aware scan: the ini dialect cuts inline comments with it, and the
    literal guard counts brackets with it."""
    quote = ""
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif track and ch in "'\"":
            quote = ch
        else:
            yield i, ch


def literal_depth(text: str) -> int:
    """How deep brackets nest in ``text`` (outside quotes): a cheap guard before parsing."""
    depth = deepest = 0
    for _, ch in outside_quotes(text):
        if ch in "[({":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif ch in "])}":
            depth -= 1
    return deepest


def _convert(raw: Any, tp: Any, text: bool = True) -> Any:
    tp = strip_annotated(tp)
    if tp is Any or tp is object or tp is typing.Any:
        return _literal(raw) if isinstance(raw, str) and text else raw
    inner, optional = unwrap_optional(tp)
    if optional:
        if raw is None:
            return None
        none_text = isinstance(raw, str) and (
            raw.strip().lower() in _NONE_TEXT or (raw.strip() == "" and inner is not str)
        )
        if none_text and text:
            return None
        if none_text and inner is not str:
            # data (json, runs, W&B): a string is None only when it is nothing else, so the
            # paths "NONE" and " " of an Optional[Path] come back as paths
            try:
                return _convert(raw, inner, text)
            except _Fail:
                return None
        return _convert(raw, inner, text)
    if tp is NoneType or tp is None:
        if raw is None or (isinstance(raw, str) and raw.strip().lower() in _NONE_TEXT | {""}):
            return None
        raise _Fail("")
    if is_union(tp):
        return _convert_union(raw, get_args(tp), text)
    origin = get_origin(tp)
    if origin is Literal:
        return _convert_literal(raw, get_args(tp))
    if origin is not None:
        if origin in _SEQUENCE_ORIGINS:
            return _convert_sequence(raw, origin, get_args(tp), text)
        if origin in _MAPPING_ORIGINS:
            return _convert_dict(raw, get_args(tp), text)
        raise _Fail(f"unsupported type {describe_type(tp)}")
    if tp is bool:
        return _convert_bool(raw)
    if tp is int:
        return _convert_int(raw)
    if tp is float:
        return _convert_float(raw)
    if tp is str:
        if isinstance(raw, str):
            return _unquote(raw) if text else raw
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            return str(raw)
        raise _Fail("")
    if isinstance(tp, type) and issubclass(tp, PurePath):
        if isinstance(raw, (str, PurePath)):
            return tp(_unquote(str(raw)) if text else str(raw))
        raise _Fail("")
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _convert_enum(raw, tp)
    if is_config_type(tp):
        return _convert_dataclass(raw, tp)
    if tp in (list, tuple, set, frozenset):
        return _convert_sequence(raw, tp, (), text)
    if tp is dict:
        return _convert_dict(raw, (), text)
    if isinstance(tp, type):
        if isinstance(raw, tp):
            return raw
        try:  # a plain class with a one-argument constructor (e.g. Decimal)
            return tp(_unquote(raw) if isinstance(raw, str) else raw)
        except Exception:
            raise _Fail("") from None
    raise _Fail(f"unsupported type {describe_type(tp)}")


def _unquote(text: str) -> str:
    """``"myrun"`` → ``myrun`` (prefigure writes strings quoted); plain text as is."""
    s = text.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "'\"":
        try:
            value = ast.literal_eval(s)
        except (ValueError, SyntaxError):
            return s[1:-1]
        if isinstance(value, str):
            return value
    return text


class _TooDeep(Exception):
    """Literal text nested deeper than MAX_DEPTH."""


def _literal(text: str) -> Any:
    """Parse a Python/JSON literal, or return the text itself when it is not one.

    Never raises for any text: ``{[1]: 2}`` (unhashable key), ``{1, [2]}``, 1000-deep
    brackets, a 5000-digit number are "not a literal", so the caller reports the value.
    """
    s = text.strip()
    if literal_depth(s) > MAX_DEPTH:
        return s
    try:
        return ast.literal_eval(s)
    except Exception:  # noqa: BLE001 - any failure means "not a literal" (TypeError, MemoryError, ...)
        pass
    try:
        return json.loads(s)
    except Exception:  # noqa: BLE001 - ValueError, RecursionError, the int-digit limit
        return s


def _convert_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise _Fail("")
    if isinstance(raw, float):
        return raw
    if isinstance(raw, int):
        try:
            return float(raw)
        except OverflowError:
            raise _Fail("too large for a float") from None
    if isinstance(raw, str):
        s = raw.strip()  # Python's own grammar: `1_000` yes, `0_` no
        try:
            value = float(s)
        except ValueError:
            raise _Fail("") from None
        if math.isinf(value) and s.lower() not in _INF_TEXT:
            raise _Fail("too large for a float")
        return value
    raise _Fail("")


def _convert_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        s = _unquote(raw).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
    raise _Fail("")


def _convert_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _Fail("")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        s = raw.strip()
        limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
        if limit and len(s.lstrip("+-")) > limit and s.lstrip("+-").isdigit():
            raise _Fail(
                f"{len(s.lstrip('+-'))} digits; Python reads at most {limit} digits of an "
                "integer written as text"
            )
        try:
            return int(s)
        except ValueError:
            pass
        try:
            f = float(s)
        except ValueError:
            raise _Fail("") from None
        if f.is_integer():
            return int(f)
    raise _Fail("")


def _convert_literal(raw: Any, choices: tuple[Any, ...]) -> Any:
    for choice in choices:
        if type(raw) is type(choice) and raw == choice:
            return choice
    if isinstance(raw, str):
        text = _unquote(raw).strip()
        for choice in choices:
            shown = choice.name if isinstance(choice, enum.Enum) else str(choice)
            if text == shown:
                return choice
    raise _Fail("")


def _convert_enum(raw: Any, tp: type[enum.Enum]) -> enum.Enum:
    if isinstance(raw, tp):
        return raw
    if isinstance(raw, str):
        text = _unquote(raw).strip()
        if text.startswith(tp.__name__ + "."):
            text = text[len(tp.__name__) + 1 :]
        if text in tp.__members__:
            return tp.__members__[text]
        for member in tp:
            if str(member.value) == text:
                return member
    else:
        for member in tp:
            if member.value == raw and type(member.value) is type(raw):
                return member
    raise _Fail("")


def _convert_union(raw: Any, members: tuple[Any, ...], text: bool) -> Any:
    members = tuple(strip_annotated(m) for m in members)
    # A value that already has one of the member types keeps it (JSON 1 for `int | str`);
    # typed text (`7` in an ini) tries the members in their declared order.
    for m in members:
        if isinstance(m, type) and not is_config_type(m) and type(raw) is m and not (text and m is str):
            return raw
    for m in members:
        try:
            return _convert(raw, m, text)
        except (_Fail, ConversionError):
            continue
    raise _Fail("")


def _as_container(raw: Any) -> Any:
    if isinstance(raw, str):
        s = raw.strip()
        if s and s[0] in "[({":
            if literal_depth(s) > MAX_DEPTH:
                raise _Fail(f"nested deeper than {MAX_DEPTH} levels")
            value = _literal(s)
            if isinstance(value, str):
                raise _Fail("not a valid literal")
            return value
        return s
    return raw


def _convert_sequence(raw: Any, origin: Any, args: tuple[Any, ...], text: bool) -> Any:
    value = _as_container(raw)
    # items parsed from a literal or given as a list are data; `a, b` split from text is text
    text = text and isinstance(value, str)
    if isinstance(value, str):
        # `4, 4, 2` or `4 4 2` (the forms people type in ini files)
        if value == "":
            items: list[Any] = []
        elif "," in value:
            items = [p.strip() for p in value.split(",")]
            if items and items[-1] == "":
                items.pop()
        else:
            items = value.split()
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    else:
        raise _Fail("")
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if len(args) == 1 and args[0] == ():
            args = ()
        if len(items) != len(args):
            raise _Fail(f"needs {len(args)} items, got {len(items)}")
        return tuple(_convert(item, a, text) for item, a in zip(items, args, strict=True))
    item_tp = args[0] if args else Any
    converted = [_convert(item, item_tp, text) for item in items]
    if origin is tuple:
        return tuple(converted)
    if origin in (set, frozenset):
        return origin(converted)
    return converted


def _convert_dict(raw: Any, args: tuple[Any, ...], text: bool) -> dict[Any, Any]:
    value = _as_container(raw)
    if not isinstance(value, Mapping):
        raise _Fail("")
    key_tp, val_tp = args if len(args) == 2 else (Any, Any)
    # keys and values of a mapping are data (a parsed literal or JSON), never typed text
    return {_convert(k, key_tp, False): _convert(v, val_tp, False) for k, v in value.items()}


DataclassBuilder = Callable[[type, dict[str, Any]], Any]
_dataclass_builder: DataclassBuilder | None = None


def install_dataclass_builder(build: DataclassBuilder) -> None:
    """Set how a mapping becomes a dataclass (``list[SubConfig]`` leaves and the like).

    Building a dataclass from a mapping *is* layering (defaults, union variants, unknown
    keys), which lives above this module in :mod:`config_utils.layers`; ``layers`` hands its
    builder in here when it is imported (``import config_utils`` imports it), so this module
    imports nothing above it and there is no import cycle.
    """
    global _dataclass_builder
    _dataclass_builder = build


def _convert_dataclass(raw: Any, tp: type) -> Any:
    if isinstance(raw, tp):
        return raw
    value = _as_container(raw)
    if not isinstance(value, Mapping):
        raise _Fail("")
    if _dataclass_builder is None:  # only when config_utils.convert is loaded on its own
        raise _Fail("no dataclass builder installed (import config_utils first)")
    try:
        return _dataclass_builder(tp, dict(value))
    except ConversionError as exc:
        raise _Fail(str(exc)) from None


def same_value(a: Any, b: Any) -> bool:
    """Exact equality of values: the same types all the way down (``1`` is not ``True`` nor
    ``1.0``), NaN equal to NaN, and an object whose ``==`` fails is not equal. The one check
    of "did this value come back / change" (run records, the OFC file, the GUI)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_value(v, b[k]) for k, v in a.items())
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - an object whose == fails is not "equal"
        return False


def format_value(value: Any, tp: Any = Any) -> str:
    """The text that :func:`convert` (``text=True``) reads back to an equal value of type ``tp``.

    It is what the ini writer (:mod:`config_utils.ini`) puts after ``key =``, so it is always
    one line that the ini reader gives back unchanged: a string is quoted (Python ``repr``,
    which escapes every non-printable character, line breaks included) whenever it is empty,
    has blanks at either end, starts with a quote or bracket, holds a non-printable character,
    would be cut by an inline comment, or would read back as something else for ``tp``
    (``'None'`` for an Optional, ``'7'`` for ``int | str``). Containers are Python literals, or
    JSON when they hold NaN/infinity (which Python literals cannot spell). Raises
    :class:`ConversionError` for a value no text gives back: an integer beyond Python's
    4300-digit text limit, or the int 7 of a ``str | int`` field (text tries ``str`` first).
    """
    text = _format_value(value, tp)
    inner = strip_annotated(unwrap_optional(tp)[0])
    if is_union(inner) and not _reads_back(text, value, tp):
        # ``str | int`` reads every text as a str first: the int 7 has no text of its own
        raise ConversionError(
            f"{shown(value)} cannot be written as text that reads back as a "
            f"{type(value).__name__} for type {describe_type(tp)} (text is tried against the "
            "members in their declared order)"
        )
    return text


def _format_value(value: Any, tp: Any) -> str:
    inner = strip_annotated(unwrap_optional(tp)[0])
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, PurePath):
        return _format_str(str(value))
    if isinstance(value, str):
        text = _format_str(value)
        if inner is not str and text != repr(value) and not _reads_back(text, value, tp):
            return repr(value)
        return text
    if isinstance(value, int):
        return _format_int(value)
    if isinstance(value, float):
        return repr(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        from .tree import to_primitives

        return _container_text(to_primitives(value))
    from .tree import primitive

    return _container_text(primitive(value))


def _format_int(value: int) -> str:
    try:
        return repr(value)
    except ValueError:  # beyond sys.get_int_max_str_digits()
        raise ConversionError(
            f"{shown(value)} cannot be written as text (Python's limit is "
            f"{sys.get_int_max_str_digits()} digits)"
        ) from None


def _reads_back(text: str, value: Any, tp: Any) -> bool:
    try:
        back = _convert(text, tp, True)
    except Exception:  # noqa: BLE001 - any failure means "no"
        return False
    return type(back) is type(value) and back == value


def _has_nonfinite(prims: Any) -> bool:
    stack = [prims]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _container_text(prims: Any) -> str:
    """A Python literal of JSON primitives; JSON (``NaN``, ``Infinity``) when it holds those.

    The JSON form can never be misread as a Python literal: ``NaN`` is not one, so the reader
    falls through to ``json.loads``.
    """
    if isinstance(prims, int) and not isinstance(prims, bool):
        return _format_int(prims)
    if _has_nonfinite(prims):
        return json.dumps(prims, allow_nan=True)
    try:
        return repr(prims)
    except ValueError:
        raise ConversionError(
            "a value holds an integer beyond Python's limit of "
            f"{sys.get_int_max_str_digits()} digits; it cannot be written as text"
        ) from None


def _format_str(text: str) -> str:
    needs_quotes = (
        text == ""
        or text != text.strip()
        or text[:1] in "'\"[({"
        or not text.isprintable()  # line breaks of every kind, tabs, control characters
        or text.strip().lower() in _NONE_TEXT
        or _COMMENT_START.search(text) is not None  # the ini reader would cut it there
    )
    return repr(text) if needs_quotes else text
