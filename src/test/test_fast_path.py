"""The fast path (docs/cli.md, "Fast path"): whenever it answers, its config and provenance
equal the tyro path's; whenever the tyro path refuses an argument list, it declines.

The same generated configs and argument lists as the tyro differential test, plus the forms
sweeps and people write (``--x=v``, ``--flag=False``, ``--flag no``, ``[1, 2]`` lists, repeated
flags, union arguments before or without their subcommand), with and without a file layer.
Which path ran is read from ``--print-config --format json`` (``"path"``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_tyro_differential import Spec, arguments, config_class

import config_utils
from config_utils.tree import to_primitives

PRINT = ["--flows:print-config", "--flows:format=json"]


def _run(cls: type, argv: list[str], fast: bool, **kwargs: Any) -> tuple[int, dict[str, Any] | None]:
    old = os.environ.get("FLOWS_FAST_PATH")
    os.environ["FLOWS_FAST_PATH"] = "1" if fast else "0"
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            try:
                config_utils.cli(cls, args=[*argv, *PRINT], **kwargs)
            except SystemExit as exc:
                code = int(exc.code or 0)
            else:
                code = -1  # --print-config always exits
    finally:
        if old is None:
            del os.environ["FLOWS_FAST_PATH"]
        else:
            os.environ["FLOWS_FAST_PATH"] = old
    text = out.getvalue()
    return code, (json.loads(text) if code == 0 and text.startswith("{") else None)


@st.composite
def sweep_forms(draw: Any, spec: Spec) -> list[str]:
    """tyro-native arguments, rewritten the way sweeps and people write them."""
    argv = draw(arguments(spec))
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        values: list[str] = []
        j = i + 1
        while j < len(argv) and not argv[j].startswith("--") and ":" not in argv[j]:
            values.append(argv[j])
            j += 1
        roll = draw(st.integers(0, 5))
        if token.startswith("--") and len(values) == 1 and roll == 0:
            out.append(f"{token}={values[0]}")
        elif token.startswith("--") and len(values) > 1 and roll == 0:
            out.append(f"{token}=[{', '.join(values)}]")
        elif token.startswith("--") and not values and roll == 1 and "--no-" not in token:
            out.append(f"{token}={draw(st.sampled_from(['True', 'false', 'yes', 'no', 'on', '0']))}")
        elif token.startswith("--") and not values and roll == 2 and "--no-" not in token:
            out += [token, draw(st.sampled_from(["False", "True", "off"]))]
        else:
            out += [token, *values]
            if token.startswith("--") and roll == 3:
                out += [token, *values]  # repeated: the last wins
        i = j
    if draw(st.integers(0, 3)) == 0:
        # a union choice moved to the end: its arguments now come before it
        choices = [t for t in out if ":" in t and not t.startswith("-")]
        if choices:
            out.remove(choices[0])
            out.append(choices[0])
    return out


# strings a user may mean literally: reserved words of trackers and files, None and number words
RESERVED_WORDS = ["OMITTED", "None", "null", "True", "nan", "inf"]


@st.composite
def with_reserved_words(draw: Any, spec: Spec) -> list[str]:
    """Arguments where some values are replaced by the reserved words."""
    argv = draw(sweep_forms(spec))
    out: list[str] = []
    for token in argv:
        if not token.startswith("-") and ":" not in token and draw(st.integers(0, 3)) == 0:
            token = draw(st.sampled_from(RESERVED_WORDS))
        elif token.startswith("--") and "=" in token and draw(st.integers(0, 3)) == 0:
            token = token.partition("=")[0] + "=" + draw(st.sampled_from(RESERVED_WORDS))
        out.append(token)
    return out


class _Tally:
    """How often the fast path answered, over a whole property run: among the argument lists
    the tyro path accepts (a refused one is the tyro path's to explain), and in all."""

    def __init__(self) -> None:
        self.cases = 0
        self.accepted = 0
        self.answered = 0

    def check(self) -> None:
        assert self.accepted > 0, "the generator made no argument list the tyro path accepts"
        assert self.answered * 2 >= self.accepted, (
            f"the fast path answered {self.answered} of {self.accepted} accepted argument lists"
        )


def _compare(spec_cls: type, argv: list[str], tally: _Tally, **kwargs: Any) -> None:
    fast_code, fast = _run(spec_cls, argv, fast=True, **kwargs)
    slow_code, slow = _run(spec_cls, argv, fast=False, **kwargs)
    assert slow is None or slow["path"] == "tyro"
    tally.cases += 1
    tally.accepted += slow_code == 0
    if fast is not None and fast["path"] == "fast":
        tally.answered += 1
        assert slow_code == 0, argv
        assert slow is not None
        assert fast["config"] == slow["config"], argv
        assert fast["provenance"] == slow["provenance"], argv
    assert fast_code == slow_code, argv  # a refusal on one path is a refusal on the other


_SETTINGS = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def test_fast_path_equals_tyro_path() -> None:
    """The property, and it is not vacuous: the fast path answered at least half of the
    argument lists the tyro path accepts."""
    tally = _Tally()

    @_SETTINGS
    @given(st.data())
    def prop(data: st.DataObject) -> None:
        spec = data.draw(config_class())
        argv = data.draw(sweep_forms(spec))
        _compare(spec.cls, argv, tally, config_file=None)

    prop()
    tally.check()


def test_reserved_words_mean_the_same_on_both_paths() -> None:
    """`OMITTED`, `None`, `null`, `True`, `nan`, `inf` as values: the fast path gives what the
    tyro path gives (OMITTED is a string on the command line) or declines."""
    tally = _Tally()

    @settings(_SETTINGS, max_examples=60)
    @given(st.data())
    def prop(data: st.DataObject) -> None:
        spec = data.draw(config_class(allow_required=False))
        argv = data.draw(with_reserved_words(spec))
        _compare(spec.cls, argv, tally, config_file=None)

    prop()
    tally.check()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_fast_path_equals_tyro_path_over_a_file_layer(data: st.DataObject) -> None:
    spec = data.draw(config_class(allow_required=False))
    first = data.draw(arguments(spec))
    code, layered = _run(spec.cls, first, fast=False, config_file=None)
    assume(code == 0 and layered is not None)
    assert layered is not None
    tmp = Path(tempfile.mkdtemp())
    try:
        layer = tmp / "layer.json"
        layer.write_text(json.dumps(layered["config"]), encoding="utf-8")
        argv = data.draw(sweep_forms(spec))
        _compare(spec.cls, argv, _Tally(), config_file=str(layer))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_plain_overrides_take_the_fast_path_and_never_import_tyro(tmp_path: Path) -> None:
    """In a fresh process: the fast path answers a sweep-style command line without tyro."""
    import subprocess
    import textwrap

    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent('''
        import sys
        from dataclasses import dataclass, field
        import config_utils

        @dataclass
        class Optim:
            lr: float = 0.1
            betas: tuple[float, float] = (0.9, 0.99)

        @dataclass
        class Cfg:
            optim: Optim = field(default_factory=Optim)
            use_ema: bool = False
            dims: list[int] = field(default_factory=lambda: [1])

        cfg = config_utils.cli(Cfg)
        print(cfg, "tyro" in sys.modules)
    '''), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), "--optim.lr=0.5", "--use-ema=False", "--dims=[3, 4]", "--optim.betas", "0", "1"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        "Cfg(optim=Optim(lr=0.5, betas=(0.0, 1.0)), use_ema=False, dims=[3, 4]) False"
    )
    proc = subprocess.run(
        [sys.executable, str(script), "--optim.lr=0.5"], capture_output=True, text=True, cwd=tmp_path,
        timeout=60, env={**os.environ, "FLOWS_FAST_PATH": "0"},
    )
    assert proc.stdout.strip().endswith("True")


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--optim.lrr", "0.1"],  # misspelt: tyro's message
        ["positional"],
        ["-x"],
    ],
)
def test_anything_else_goes_to_tyro(argv: list[str], tmp_path: Path) -> None:
    from conformance_configs import WithUnion

    fast_code, fast = _run(WithUnion, argv, fast=True, config_file=None)
    assert fast is None or fast["path"] == "tyro"


def test_markers_or_tyro_keywords_decline() -> None:
    import tyro
    from conformance_configs import Plain, WithMarkers

    assert _run(WithMarkers, ["--count", "2"], fast=True, config_file=None)[1]["path"] == "tyro"  # type: ignore[index]
    _, doc = _run(Plain, ["--lr", "0.2"], fast=True, config_file=None, config=(tyro.conf.FlagConversionOff,))
    assert doc is not None and doc["path"] == "tyro"
    _, doc = _run(Plain, ["--lr", "0.2"], fast=True, config_file=None)
    assert doc is not None and doc["path"] == "fast"
    assert doc["config"] == to_primitives(Plain(lr=0.2))
