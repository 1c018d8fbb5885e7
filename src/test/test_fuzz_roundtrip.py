"""Round trips: write, then read, is the identity — for every supported type and all of Unicode
except lone surrogates and NUL, through the ini dialect, the OFC file, the run record and the
W&B primitives layer (``to_primitives`` / ``from_primitives``).

Strings are drawn with every character Python's ``str.splitlines`` breaks at, tabs, quotes,
``#``/``;``, blanks at either end and the empty string, because those are what used to come back
cut or changed. Equality is exact: same types all the way down, NaN equal to NaN.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any, Literal, Optional

from cli_configs import AllTypes, Color, Leaves, Level, RecordConfig, VariantA, VariantB
from fuzz_bounds import FUZZ, INI_MARKS, LINE_BREAKS, any_char
from hypothesis import given
from hypothesis import strategies as st

from config_utils import ini
from config_utils.atomic import write_atomic
from config_utils.convert import convert, format_value
from config_utils.convert import same_value as _equal
from config_utils.errors import ConversionError
from config_utils.layers import from_primitives
from config_utils.ofc import OFC
from config_utils.schema import is_config_instance, iter_instance
from config_utils.sources.runs import load_run, save_run
from config_utils.tree import to_primitives

texts = st.one_of(
    st.text(any_char, max_size=24),
    st.text(st.sampled_from(LINE_BREAKS + INI_MARKS + "aé😀\t"), max_size=12),
    st.sampled_from(["", " ", "None", "none", "True", "0", "OMITTED", "'x'", "a # b", "[1]", "{[1]: 2}"]),
)
floats = st.floats(allow_nan=True, allow_infinity=True)
ints = st.integers(min_value=-(10**40), max_value=10**40)
paths = texts.map(Path)

TYPED: list[tuple[Any, st.SearchStrategy[Any]]] = [
    (int, ints),
    (float, floats),
    (bool, st.booleans()),
    (str, texts),
    (Path, paths),
    (Color, st.sampled_from(Color)),
    (Level, st.sampled_from(Level)),
    (Literal["a", "b", 3], st.sampled_from(["a", "b", 3])),
    (Optional[int], st.none() | ints),
    (Optional[str], st.none() | texts),
    (Optional[Path], st.none() | paths),
    (list[int], st.lists(ints, max_size=4)),
    (list[str], st.lists(texts, max_size=4)),
    (list[float], st.lists(floats, max_size=4)),
    (tuple[int, str], st.tuples(ints, texts)),
    (tuple[float, ...], st.lists(floats, max_size=3).map(tuple)),
    (list[Path], st.lists(paths, max_size=3)),
    (list[Color], st.lists(st.sampled_from(Color), max_size=3)),
    (dict[str, float], st.dictionaries(texts, floats, max_size=3)),
    (dict[str, list[int]], st.dictionaries(texts, st.lists(ints, max_size=2), max_size=2)),
    (set[int], st.sets(ints, max_size=3)),
    (int | str, st.one_of(ints, texts)),
    (str | int, st.one_of(ints, texts)),
]
typed_values = st.sampled_from(range(len(TYPED))).flatmap(
    lambda i: st.tuples(st.just(TYPED[i][0]), TYPED[i][1])
)


def same_config(a: Any, b: Any) -> bool:
    """Exact equality of two configs, leaf by leaf (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    left = {p: v for p, f, v in iter_instance(a) if not (f.kind != "leaf" and is_config_instance(v))}
    right = {p: v for p, f, v in iter_instance(b) if not (f.kind != "leaf" and is_config_instance(v))}
    return left.keys() == right.keys() and all(_equal(v, right[k]) for k, v in left.items())


@FUZZ
@given(st.lists(typed_values, min_size=1, max_size=8), st.booleans())
def test_ini_dialect_round_trip(items: list[tuple[Any, Any]], sections: bool) -> None:
    """write_ini(format_value(v)) → read_ini → convert gives v back, for every type."""
    entries = []
    kept = []
    for i, (tp, v) in enumerate(items):
        try:
            text = format_value(v, tp)
        except ConversionError as exc:
            # only an int in a str-first union has no text (every text reads as the str)
            assert tp == str | int and isinstance(v, int), exc
            continue
        key = f"sec{i % 2}.k{i}" if sections else f"k{i}"
        entries.append(ini.Entry(key, text, comment_above=(f"{tp}",)))
        kept.append((tp, v))
    items = kept
    text = ini.write_ini(entries, header=["a header"], sections=sections)
    doc = ini.read_ini(text, source="rt.ini")
    found = doc.by_key()
    assert sorted(found) == sorted(e.key for e in entries)
    for entry, (tp, value) in zip(entries, items, strict=True):
        back = convert(found[entry.key].value_text, tp, key=entry.key, where="rt.ini")
        assert _equal(back, value), (tp, value, entry.value_text, back)
        assert found[entry.key].comment_above == entry.comment_above


all_types = st.builds(
    AllTypes,
    i=ints, f=floats, b=st.booleans(), s=texts, p=paths, lit=st.sampled_from(["a", "b", 3]),
    color=st.sampled_from(Color), level=st.sampled_from(Level), opt=st.none() | ints,
    opt_s=st.none() | texts, ints=st.lists(ints, max_size=3), pair=st.tuples(ints, texts),
    many=st.lists(floats, max_size=3).map(tuple), paths=st.lists(paths, max_size=2),
    colors=st.lists(st.sampled_from(Color), max_size=2),
    weights=st.dictionaries(texts, floats, max_size=2),
)
STEER = [
    "i", "f", "b", "s", "p", "lit", "color", "level", "opt", "opt_s", "ints", "pair", "many",
    "paths", "colors", "weights",
]


@FUZZ
@given(all_types)
def test_ofc_file_round_trip(cfg: AllTypes) -> None:
    """The OFC file OFC writes for ``cfg``, read by another OFC, applies exactly ``cfg``'s
    values; and re-reading its own file changes nothing (a value nobody edited stays)."""
    with tempfile.TemporaryDirectory() as d:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # not one warning on the way
            source = OFC(cfg, STEER, ofc_file=Path(d) / "a.ini", poll_interval=3600, use_wandb=False)
            target = OFC(AllTypes(), STEER, ofc_file=Path(d) / "b.ini", poll_interval=3600, use_wandb=False)
            try:
                for _ in range(3):
                    source.poll()
                assert not source.pending() and source.update() == {}
                write_atomic(target.ofc_file, source.ofc_file.read_text())
                for _ in range(3):
                    target.poll()
                target.update()
                assert same_config(target.cfg, cfg), (target.values(), source.values())
            finally:
                source.close()
                target.close()


leaves = st.builds(
    Leaves,
    i=ints, f=floats, b=st.booleans(), s=texts, p=paths, color=st.sampled_from(Color),
    level=st.sampled_from(Level), lit=st.sampled_from(["a", "b"]), opt=st.none() | ints,
    opt_s=st.none() | texts, opt_p=st.none() | paths, ints=st.lists(ints, max_size=3),
    colors=st.lists(st.sampled_from(Color), max_size=2), paths=st.lists(paths, max_size=2).map(tuple),
    table=st.dictionaries(texts, floats, max_size=2),
)
records = st.builds(
    RecordConfig,
    top=leaves,
    choice=st.one_of(
        st.builds(VariantA, x=ints, leaves=leaves),
        st.builds(VariantB, y=texts, levels=st.lists(st.sampled_from(Level), max_size=2)),
    ),
    names=st.lists(texts, max_size=3),
)


@FUZZ
@given(records)
def test_run_record_round_trip(cfg: RecordConfig) -> None:
    """save_run → load_run → from_primitives is the identity, the string "OMITTED" included
    (only tracker pulls treat it as a marker)."""
    with tempfile.TemporaryDirectory() as d:
        save_run(cfg, d, argv=[])
        back = from_primitives(RecordConfig, load_run(d)["config"], where="run")
        assert same_config(back, cfg)


@FUZZ
@given(records)
def test_wandb_primitives_round_trip(cfg: RecordConfig) -> None:
    """The W&B layer: to_primitives → JSON (what W&B stores) → from_primitives is the identity."""
    nested = json.loads(json.dumps(to_primitives(cfg)))
    assert same_config(from_primitives(RecordConfig, nested, where="wandb"), cfg)
