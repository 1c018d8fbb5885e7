"""tyro constructor rules for the value forms the one conversion adds on the command line (Enum
members by value, boolean words for value-taking bools, integral floats for ints, the None
words), used only after tyro refused the arguments as written (docs/cli.md, "The superset").
"""

from __future__ import annotations

import enum
import inspect
from typing import Any

from .convert import convert, format_value


def superset_registry() -> Any:
    """tyro constructor rules for the value forms the one conversion adds: Enum members by
    name or value, the boolean words for arguments that take a value, integral floats for
    ints and the None words. Used only after tyro refused the arguments as written."""
    import tyro
    from tyro.constructors import ConstructorRegistry, PrimitiveConstructorSpec, PrimitiveTypeInfo

    reg = ConstructorRegistry()

    def make(tp: Any, metavar: str) -> Any:
        return PrimitiveConstructorSpec(
            nargs=1,
            metavar=metavar,
            instance_from_str=lambda args: convert(args[0], tp, key="argument", where="command line"),
            is_instance=lambda x: isinstance(x, tp),
            str_from_instance=lambda x: [format_value(x, tp)],
            choices=None,
        )

    @reg.primitive_rule
    def enum_by_name_or_value(info: PrimitiveTypeInfo) -> Any:
        tp = info.type
        if not (inspect.isclass(tp) and issubclass(tp, enum.Enum)):
            return None
        if any(type(m).__name__ == "_EnumChoicesFromValues" or m is tyro.conf.EnumChoicesFromValues for m in info.markers):
            return None
        return make(tp, "{" + ",".join(tp.__members__) + "}")

    @reg.primitive_rule
    def bool_words(info: PrimitiveTypeInfo) -> Any:
        if info.type is not bool:
            return None
        return make(bool, "{True,False}")

    @reg.primitive_rule
    def integral_numbers(info: PrimitiveTypeInfo) -> Any:
        # `5.0` and `1e3` for an int, as in files (W&B stores some ints as floats)
        return make(int, "INT") if info.type is int else None

    @reg.primitive_rule
    def none_words(info: PrimitiveTypeInfo) -> Any:
        # `none`, `null`, `~` as in files
        return make(type(None), "{None}") if info.type is type(None) else None

    return reg
