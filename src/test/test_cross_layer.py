"""One text, one value, in every layer (docs/cli.md, "One conversion").

The same text given on the command line (``--key v``), as ``key = v`` in an ini file, in the
OFC file and through the GUI's submit gives the same value or an error in each; and a value
saved in a run record re-creates to the same value.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import io
import shutil
import tempfile
import typing
from pathlib import Path
from typing import Any, Literal, Optional

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import config_utils
from config_utils.convert import convert
from config_utils.errors import ConfigError
from config_utils.ofc.core import parse_text


class Mode(enum.Enum):
    TRAIN = "train"
    EVAL = "eval"


@dataclasses.dataclass
class Knobs:
    count: int = 1
    rate: float = 0.5
    use_ema: bool = False
    name: str = "run"
    mode: Mode = Mode.TRAIN
    speed: Literal["fast", "slow"] = "fast"
    seed: Optional[int] = None  # noqa: UP045
    out: Path = Path("out")
    dims: list[int] = dataclasses.field(default_factory=lambda: [1])


_number_text = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.text("0123456789.e_-x", min_size=1, max_size=6),
)
_word_text = st.text("abcdefghijklmnopqrstuvwxyz0123456789_./", min_size=1, max_size=8)
_bool_text = st.one_of(
    st.sampled_from(["true", "false", "True", "FALSE", "yes", "No", "on", "off", "1", "0"]),
    st.sampled_from(["maybe", "2", "tru"]),
)

TEXTS: dict[str, st.SearchStrategy[str]] = {
    "count": _number_text,
    "rate": _number_text,
    "use_ema": _bool_text,
    "name": _word_text,
    "mode": st.sampled_from(["TRAIN", "EVAL", "train", "eval", "Mode.EVAL", "test"]),
    "speed": st.sampled_from(["fast", "slow", "medium", "FAST"]),
    "seed": st.one_of(st.sampled_from(["None", "none", "null", "~"]), _number_text),
    "out": _word_text,
    "dims": st.lists(st.integers(-99, 99), min_size=1, max_size=3).map(lambda xs: " ".join(map(str, xs))),
}


def _quiet(fn: Any) -> tuple[Any, bool]:
    """(value, failed) with output swallowed; a failure must be exit status 2."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            return fn(), False
        except SystemExit as exc:
            assert exc.code == 2
            return None, True
        except ConfigError:
            return None, True


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(TEXTS)).flatmap(lambda k: st.tuples(st.just(k), TEXTS[k])))
def test_one_text_one_value_in_every_layer(case: tuple[str, str]) -> None:
    key, text = case
    tmp = Path(tempfile.mkdtemp())
    try:
        tokens = text.split() if key == "dims" else [text]
        on_cli, cli_failed = _quiet(lambda: config_utils.cli(Knobs, args=[_flag(key), *tokens], config_file=None))
        ini = tmp / "c.ini"
        ini.write_text(f"[DEFAULTS]\n{key} = {text}\n", encoding="utf-8")
        in_ini, ini_failed = _quiet(lambda: config_utils.cli(Knobs, args=[], config_file=str(ini)))
        assert cli_failed == ini_failed, (key, text, on_cli, in_ini)
        parsed = parse_text(f"[OFC]\n{key} = {text}\n", "ofc.ini")
        assert not parsed.problems
        value_text = parsed.entries[key][0]
        in_ofc, ofc_failed = _quiet(lambda: convert(value_text, _field_type(key), key=key, where="ofc.ini:2"))
        assert ofc_failed == ini_failed, (key, text)
        if cli_failed:
            return
        value = getattr(on_cli, key)
        assert getattr(in_ini, key) == value and type(getattr(in_ini, key)) is type(value)
        assert in_ofc == value
        run_dir = tmp / "run"
        config_utils.save_run(on_cli, run_dir)
        again = config_utils.cli(Knobs, args=["--flows:from-run", str(run_dir)], config_file=None)
        assert getattr(again, key) == value and type(getattr(again, key)) is type(value)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _field_type(key: str) -> Any:
    return typing.get_type_hints(Knobs)[key]


def test_ofc_submit_reads_text_as_the_ini_layer_does(tmp_path: Path) -> None:
    cfg = Knobs()
    ofc = config_utils.OFC(cfg, steerables=["mode", "seed", "use_ema"], ofc_file=tmp_path / "ofc.ini")
    try:
        assert ofc.submit({"mode": "eval", "seed": "7", "use_ema": "on"}) == {}
        assert ofc.update() == {"mode": Mode.EVAL, "seed": 7, "use_ema": True}
        assert ofc.submit({"seed": "null"}) == {}
        assert ofc.update() == {"seed": None}
        errors = ofc.submit({"mode": "test"})
        assert list(errors) == ["mode"] and "expected Mode" in errors["mode"]
    finally:
        ofc.close()
