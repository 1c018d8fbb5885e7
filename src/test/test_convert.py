"""The one typed conversion (docs/design.md, "The one conversion"): raw text or JSON primitives → the *declared* type.

Files, run records, W&B runs, the OFC file and the GUI all go through ``convert``; the
declared type decides (``"1"`` is ``1`` for an int field and ``"1"`` for a str field).
``format_value`` writes text that converts back to an equal value.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Any, Literal, Optional

import pytest
from cli_configs import Color, Level, LossModule1Config, ModelConfig
from hypothesis import given
from hypothesis import strategies as st

from config_utils.convert import convert, format_value
from config_utils.errors import ConversionError


def c(raw: Any, tp: Any) -> Any:
    return convert(raw, tp, key="k", where="f.ini:1")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("True", True), ("False", False), ("true", True), ("false", False), ("1", True), ("0", False),
     ("yes", True), ("no", False), (True, True), (False, False), (1, True), (0, False), ('"yes"', True)],
)
def test_bool_spellings(raw: Any, expected: bool) -> None:
    assert c(raw, bool) is expected


@pytest.mark.parametrize(
    ("raw", "tp", "expected"),
    [
        ("3", int, 3), (3, int, 3), (3.0, int, 3), ("1_000", int, 1000), ("1e3", int, 1000),
        ("2.5", float, 2.5), (2, float, 2.0), ("1e-3", float, 0.001), ("inf", float, float("inf")),
        ("hello", str, "hello"), ('"quoted # text"', str, "quoted # text"), ("'single'", str, "single"),
        ("1", str, "1"), (1, str, "1"), ("  padded ", str, "  padded "),
        ("data/x", Path, Path("data/x")), ('"a b"', Path, Path("a b")),
        ("b", Literal["a", "b", 3], "b"), ("3", Literal["a", "b", 3], 3), (3, Literal["a", "b", 3], 3),
        ("green", Color, Color.GREEN), ("GREEN", Color, Color.GREEN), ("Color.BLUE", Color, Color.BLUE),
        ("HIGH", Level, Level.HIGH), ("2", Level, Level.HIGH), (2, Level, Level.HIGH),
        ("None", Optional[int], None), ("null", int | None, None), (None, int | None, None),
        ("", int | None, None), ("4", int | None, 4), ("", str | None, ""), ("none", str | None, None),
        ("[1, 2]", list[int], [1, 2]), ("1, 2", list[int], [1, 2]), ("1 2", list[int], [1, 2]),
        ([1, "2"], list[int], [1, 2]), ("[]", list[int], []), ("", list[int], []),
        ("4, four", tuple[int, str], (4, "four")), ([4, "x"], tuple[int, str], (4, "x")),
        ("1.5 2.5", tuple[float, ...], (1.5, 2.5)),
        ("[RED, blue]", list[Color], None),  # not a literal: rejected below
        ('["RED", "blue"]', list[Color], [Color.RED, Color.BLUE]), ("RED, blue", list[Color], [Color.RED, Color.BLUE]),
        (["a", "b"], list[Path], [Path("a"), Path("b")]),
        ("{'a': 1}", dict[str, float], {"a": 1.0}), ({"a": "2"}, dict[str, int], {"a": 2}),
        ({"x": "GREEN"}, dict[str, Color], {"x": Color.GREEN}), ({"1": "a"}, dict[int, str], {1: "a"}),
        ("[[1, 2], [3]]", list[list[int]], [[1, 2], [3]]),
        ("[None, 1]", list[int | None], [None, 1]),
        ({"hidden": "3"}, ModelConfig, ModelConfig(hidden=3)),
        ("{'p1': 4}", LossModule1Config, LossModule1Config(p1=4)),
        ("7", int | str, 7), ("seven", int | str, "seven"), (7, str | int, 7), ("7", str | int, "7"),
        ("{'a': [1]}", Any, {"a": [1]}), ("text", Any, "text"),
    ],
)
def test_declared_type_decides(raw: Any, tp: Any, expected: Any) -> None:
    if expected is None and tp == list[Color]:
        with pytest.raises(ConversionError):
            c(raw, tp)
        return
    value = c(raw, tp)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "tp", "message"),
    [
        ("abc", int, "f.ini:1: k: expected int, got 'abc'"),
        ("2.5", int, "f.ini:1: k: expected int, got '2.5'"),
        (True, int, "f.ini:1: k: expected int, got True"),
        ("maybe", bool, "f.ini:1: k: expected bool, got 'maybe'"),
        ("x", float, "f.ini:1: k: expected float, got 'x'"),
        ("purple", Color, "f.ini:1: k: expected Color (one of: RED, GREEN, BLUE), got 'purple'"),
        ("c", Literal["a", "b"], "f.ini:1: k: expected Literal['a', 'b'], got 'c'"),
        ("x", Optional[int], "f.ini:1: k: expected Optional[int], got 'x'"),
        ("1, 2, 3", tuple[int, int], "f.ini:1: k: expected tuple[int, int], got '1, 2, 3' (needs 2 items, got 3)"),
        ("[1, 'a']", list[int], "f.ini:1: k: expected list[int], got \"[1, 'a']\""),
        ("[1, 2", list[int], "f.ini:1: k: expected list[int], got '[1, 2' (not a valid literal)"),
        (5, Path, "f.ini:1: k: expected Path, got 5"),
        ("3", dict[str, int], "f.ini:1: k: expected dict[str, int], got '3'"),
    ],
)
def test_bad_values_name_where_key_type_and_value(raw: Any, tp: Any, message: str) -> None:
    with pytest.raises(ConversionError) as exc:
        convert(raw, tp, key="k", where="f.ini:1")
    assert str(exc.value) == message


def test_a_bad_value_inside_a_nested_dataclass_names_the_inner_key() -> None:
    with pytest.raises(ConversionError) as exc:
        c({"hidden": "wide"}, ModelConfig)
    assert str(exc.value) == "f.ini:1: k: expected ModelConfig, got {'hidden': 'wide'} (value: hidden: expected int, got 'wide')"


class Mixed(enum.Enum):
    ONE = 1
    TWO = "two"


@pytest.mark.parametrize(
    ("value", "tp"),
    [
        (None, Optional[int]), ("None", str), ("None", Optional[str]), ("", str), ("", Optional[str]),
        ("true", str), ("1", str), (" pad ", str), ("[x]", str), ('say "hi"', str), ("a\nb", str),
        (Path("a b"), Path), (Path("[x]"), Path), (Color.GREEN, Color), (Mixed.TWO, Mixed),
        ([Color.RED, Color.BLUE], list[Color]), ((Path("a"), Path("b c")), tuple[Path, ...]),
        ({"x": Color.BLUE}, dict[str, Color]), ({Color.RED: [Path("p")]}, dict[Color, list[Path]]),
        ([[Level.LOW], [Level.HIGH, Level.LOW]], list[list[Level]]), ([None, Path("q")], list[Path | None]),
        ((4, "four"), tuple[int, str]), ([], list[int]), (1e-7, float), (-3, int), (True, bool),
        ("adam", Literal["adam", "sgd"]), (ModelConfig(dims=[1], color=Color.BLUE), ModelConfig),
    ],
)
def test_format_value_reads_back(value: Any, tp: Any) -> None:
    text = format_value(value, tp)
    assert isinstance(text, str)
    assert c(text, tp) == value


def test_format_value_text_people_read() -> None:
    assert format_value(Color.GREEN, Color) == "GREEN"
    assert format_value([Color.RED, Color.BLUE], list[Color]) == "['RED', 'BLUE']"
    assert format_value((Path("a"), Path("b")), tuple[Path, ...]) == "['a', 'b']"
    assert format_value(Path("out/x"), Path) == "out/x"
    assert format_value(None, Optional[int]) == "None"
    assert format_value("None", str) == "'None'"
    assert format_value(0.001, float) == "0.001"


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@given(st.lists(st.one_of(st.none(), st.sampled_from([Path("a"), Path("b c"), Path("/x/y")])), max_size=4),
       st.dictionaries(_text, st.lists(st.sampled_from(list(Color)), max_size=3), max_size=3),
       _text)
def test_format_value_round_trip_property(paths: list[Path | None], colors: dict[str, list[Color]], s: str) -> None:
    assert c(format_value(paths, list[Path | None]), list[Path | None]) == paths
    assert c(format_value(colors, dict[str, list[Color]]), dict[str, list[Color]]) == colors
    assert c(format_value(s, str), str) == s
    assert c(format_value(s, Optional[str]), Optional[str]) == s


@pytest.mark.parametrize(
    ("raw", "tp", "expected"),
    [("'x'", str, "'x'"), (" pad ", str, " pad "), ("None", Optional[str], "None"), ("null", str | None, "null"),
     ("[1]", Any, "[1]"), ('"a"', Path, Path('"a"')), (None, str | None, None), ("3", int, 3), ("None", int | None, None)],
)
def test_strings_from_data_sources_stay_as_they_are(raw: Any, tp: Any, expected: Any) -> None:
    """json/toml/yaml, run records and W&B hold data, not typed text: no unquoting, and the
    string "None" is a string (else a config with ``tag="None"`` would not survive a run record)."""
    assert convert(raw, tp, key="k", where="run:x", text=False) == expected
