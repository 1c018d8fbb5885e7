"""OFC core: the file format, typed edits, every rejection, history, provenance, callbacks.

Most tests switch the watcher thread off (``poll_interval=3600``) and call ``ofc.poll()``
by hand, so they are deterministic: a new file version is processed at the second poll that
sees the same text (the "settle" rule that keeps half-written files out). One test runs the
real thread end to end.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import os
import re
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import pytest
from ofc_editing import edit_text, settle

from config_utils.atomic import write_atomic
from config_utils.errors import OFCError
from config_utils.ofc import OFC, OFCWarning
from config_utils.ofc.core import HEADER
from config_utils.provenance import provenance

ROOT = Path(__file__).resolve().parents[2]


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


@dataclass
class Optim:
    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    sched: Literal["cos", "lin"] = "cos"


@dataclass
class Cfg:
    optim: Optim = field(default_factory=Optim)
    demo_every: int = 100
    use_ema: bool = False
    name: str = "run"
    out: Path = Path("out")
    color: Color = Color.RED
    clip: Optional[float] = None
    layers: list[int] = field(default_factory=lambda: [1, 2])
    weights: dict[str, float] = field(default_factory=lambda: {"a": 1.0})
    seed: int = 0


STEER = [
    "optim.lr",
    "optim.betas",
    "optim.sched",
    "demo_every",
    "use_ema",
    "name",
    "out",
    "color",
    "clip",
    "layers",
    "weights",
]


def make(tmp_path: Path, cfg: Any = None, steer: Any = STEER, **kw: Any) -> OFC:
    kw.setdefault("poll_interval", 3600)  # no thread polling: tests call poll() themselves
    return OFC(Cfg() if cfg is None else cfg, steer, tmp_path / "ofc.ini", **kw)


def set_line(path: Path, key: str, raw: str) -> None:
    """Edit one value the way a person would (whole file replaced, like most editors)."""
    write_atomic(path, edit_text(path.read_text(), {key: raw}))


def line_of(path: Path, key: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if line.startswith(f"{key} ="):
            return i
    raise AssertionError(key)


@pytest.fixture
def ofc(tmp_path: Path):
    o = make(tmp_path)
    yield o
    o.close()


# ---------------------------------------------------------------- file format
def test_file_lists_steerable_keys_with_types(ofc: OFC, tmp_path: Path) -> None:
    text = (tmp_path / "ofc.ini").read_text()
    lines = text.splitlines()
    assert lines[0] == HEADER
    assert "[OFC]" in lines
    body = lines[lines.index("[OFC]") + 1 :]
    assert body[:4] == [
        "# optim.lr: float",
        "optim.lr = 0.001",
        "# optim.betas: tuple[float, float]",
        "optim.betas = [0.9, 0.999]",
    ]
    assert "# optim.sched: Literal['cos', 'lin']" in body
    assert "# color: Color (one of: RED, GREEN)" in body
    assert "color = RED" in body
    assert "# clip: Optional[float]" in body and "clip = None" in body
    assert "seed" not in text  # not steerable: not in the file
    assert text.endswith("\n")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ofc.ini.")]  # no temp left


def test_unchanged_update_returns_nothing(ofc: OFC) -> None:
    settle(ofc)
    assert ofc.update() == {}
    assert not ofc.pending()


# ---------------------------------------------------------------- typed edits
@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("optim.lr", "3e-4", 3e-4),
        ("optim.betas", "0.8, 0.95", (0.8, 0.95)),
        ("optim.betas", "[0.5, 0.6]", (0.5, 0.6)),
        ("optim.sched", "lin", "lin"),
        ("demo_every", "250", 250),
        ("use_ema", "true", True),
        ("use_ema", "yes", True),
        ("name", "my run", "my run"),
        ("name", "'quoted'", "quoted"),
        ("out", "/tmp/elsewhere", Path("/tmp/elsewhere")),
        ("color", "GREEN", Color.GREEN),
        ("color", "green", Color.GREEN),
        ("clip", "1.5", 1.5),
        ("layers", "[4, 5, 6]", [4, 5, 6]),
        ("weights", '{"a": 0.5, "b": 2}', {"a": 0.5, "b": 2.0}),
    ],
)
def test_typed_edit_applies(ofc: OFC, tmp_path: Path, key: str, raw: str, expected: Any) -> None:
    set_line(tmp_path / "ofc.ini", key, raw)
    settle(ofc)
    changes = ofc.update(step=7)
    assert changes == {key: expected}
    value = ofc.cfg
    for part in key.split("."):
        value = getattr(value, part)
    assert value == expected and type(value) is type(expected)
    assert provenance(ofc.cfg)[key] == "ofc:step=7"


def test_optional_back_to_none(tmp_path: Path) -> None:
    with make(tmp_path, Cfg(clip=2.0)) as o:
        set_line(tmp_path / "ofc.ini", "clip", "None")
        settle(o)
        assert o.update() == {"clip": None}


def test_equal_text_is_not_a_change(ofc: OFC, tmp_path: Path) -> None:
    set_line(tmp_path / "ofc.ini", "optim.lr", "1e-3")  # same float, other spelling
    set_line(tmp_path / "ofc.ini", "color", "red")
    settle(ofc)
    assert ofc.update() == {}


def test_first_poll_of_new_version_does_not_apply(ofc: OFC, tmp_path: Path) -> None:
    """A version must be seen twice (settled) before it applies: a writer may be mid-way."""
    set_line(tmp_path / "ofc.ini", "demo_every", "5")
    ofc.poll()
    assert ofc.update() == {}
    ofc.poll()
    assert ofc.update() == {"demo_every": 5}


def test_old_timestamp_still_settles(ofc: OFC, tmp_path: Path) -> None:
    """A version first seen late (its mtime already old, e.g. a copied file) still applies."""
    path = tmp_path / "ofc.ini"
    set_line(path, "demo_every", "6")
    old = time.time() - 60
    os.utime(path, (old, old))
    settle(ofc)
    assert ofc.update() == {"demo_every": 6}


def test_several_versions_between_updates_last_wins(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    for raw in ("1", "2", "3"):
        set_line(path, "demo_every", raw)
        settle(ofc)
    set_line(path, "use_ema", "True")
    settle(ofc)
    assert ofc.update(step=3) == {"demo_every": 3, "use_ema": True}
    assert [(c.key, c.old, c.new) for c in ofc.history] == [
        ("demo_every", 100, 3),
        ("use_ema", False, True),
    ]


def test_change_and_back_before_update_is_no_change(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    set_line(path, "demo_every", "5")
    settle(ofc)
    set_line(path, "demo_every", "100")
    settle(ofc)
    assert ofc.update() == {}
    assert ofc.history == []


# ---------------------------------------------------------------- rejections
def test_bad_value_warns_and_keeps_old(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    set_line(path, "demo_every", "lots")
    set_line(path, "optim.lr", "5e-4")  # a good edit in the same version still applies
    settle(ofc)
    with pytest.warns(OFCWarning) as rec:
        assert ofc.update() == {"optim.lr": 5e-4}
    assert [str(w.message) for w in rec] == [
        f"{path}:{line_of(path, 'demo_every')}: demo_every: expected int, got 'lots'; keeping 100"
    ]
    assert ofc.cfg.demo_every == 100


def test_bad_literal_and_enum_messages(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    set_line(path, "optim.sched", "step")
    set_line(path, "color", "BLUE")
    settle(ofc)
    with pytest.warns(OFCWarning) as rec:
        assert ofc.update() == {}
    assert [str(w.message) for w in rec] == [
        f"{path}:{line_of(path, 'optim.sched')}: optim.sched: expected Literal['cos', 'lin'], "
        "got 'step'; keeping cos",
        f"{path}:{line_of(path, 'color')}: color: expected Color (one of: RED, GREEN), "
        "got 'BLUE'; keeping RED",
    ]


def test_same_problem_warns_once(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    set_line(path, "demo_every", "lots")
    settle(ofc)
    with pytest.warns(OFCWarning):
        ofc.update()
    set_line(path, "use_ema", "True")  # another edit; demo_every is still bad
    settle(ofc)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ofc.update() == {"use_ema": True}


def _append(path: Path, text: str) -> int:
    old = path.read_text()
    write_atomic(path, old + text)
    return len(old.splitlines()) + 1


def test_unknown_key_warns_with_suggestion(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    line = _append(path, "demo_evry = 5\n")
    settle(ofc)
    with pytest.warns(OFCWarning) as rec:
        assert ofc.update() == {}
    assert str(rec[0].message) == (
        f"{path}:{line}: demo_evry: unknown key (did you mean 'demo_every'?); edit ignored"
    )


def test_non_steerable_key_warns_and_does_not_apply(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    line = _append(path, "seed = 7\n")
    settle(ofc)
    with pytest.warns(OFCWarning) as rec:
        assert ofc.update() == {}
    assert str(rec[0].message) == (
        f"{path}:{line}: seed: not steerable (steerable: optim.lr, optim.betas, optim.sched, "
        "demo_every, use_ema, name, out, color, ...); edit ignored"
    )
    assert ofc.cfg.seed == 0


def test_malformed_line_and_foreign_section(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    line = _append(path, "just words\n[other]\n")
    settle(ofc)
    with pytest.warns(OFCWarning) as rec:
        ofc.update()
    assert [str(w.message) for w in rec] == [
        f"{path}:{line}: expected 'key = value' or '[section]', got 'just words'",
        f"{path}:{line + 1}: unexpected section [other] (its keys are ignored); an OFC file "
        "has one section, [OFC]",
    ]


def test_duplicate_key_is_rejected_naming_both_lines(ofc: OFC, tmp_path: Path) -> None:
    """A key set twice is not applied (neither line is trusted); the other edits of the save are."""
    path = tmp_path / "ofc.ini"
    set_line(path, "use_ema", "True")
    line = _append(path, "demo_every = 9\n")
    settle(ofc)
    with pytest.warns(OFCWarning) as rec:
        assert ofc.update() == {"use_ema": True}
    first = line_of(path, "demo_every")
    assert [str(w.message) for w in rec] == [
        f"{path}:{line}: demo_every: set twice (lines {first} and {line}); keep one"
    ]
    assert ofc.cfg.demo_every == 100


def test_half_written_file_never_applies(ofc: OFC, tmp_path: Path) -> None:
    """A file cut short (a writer still at work) applies nothing, even once settled."""
    path = tmp_path / "ofc.ini"
    full = path.read_text().replace("optim.lr = 0.001", "optim.lr = 0.5")
    cut = full[: full.index("demo_every = ")]  # later keys missing
    path.write_text(cut)
    settle(ofc)
    with pytest.warns(OFCWarning) as rec:
        assert ofc.update() == {}
    assert str(rec[0].message) == (
        f"{path}: incomplete OFC file (missing demo_every, use_ema, name, out, color); nothing "
        "applied until every steerable key is present"
    )
    assert ofc.cfg.optim.lr == 1e-3
    path.write_text(full)
    settle(ofc)
    assert ofc.update() == {"optim.lr": 0.5}


def test_unterminated_file_never_applies(ofc: OFC, tmp_path: Path) -> None:
    """Completeness guarantee: a version without a final line break may be a write cut short
    (``demo_every = 10`` of ``demo_every = 1000``), so it never applies however long it stays;
    one warning says why. The same text with its line break applies."""
    path = tmp_path / "ofc.ini"
    full = path.read_text().replace("demo_every = 100", "demo_every = 1000")
    cut = full[: full.index("demo_every = 1000") + len("demo_every = 10")]
    path.write_text(cut)  # a writer stalled mid-value
    for _ in range(3):
        settle(ofc)
    with pytest.warns(OFCWarning) as rec:
        assert ofc.update() == {}
    assert [str(w.message) for w in rec] == [
        f"{path}: the file does not end with a line break, so it may be a write cut short; "
        "nothing applied until it does (save it again with a final line break)"
    ]
    path.write_text(full.rstrip("\n"))  # everything but the final line break
    settle(ofc)
    assert ofc.update() == {} and ofc.cfg.demo_every == 100  # reported once, nothing applied
    path.write_text(full)
    settle(ofc)
    assert ofc.update() == {"demo_every": 1000}


def test_deleted_file_pauses_and_resumes(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    text = path.read_text()
    path.unlink()
    settle(ofc)
    assert ofc.update() == {}
    path.write_text(text.replace("demo_every = 100", "demo_every = 1"))
    settle(ofc)
    assert ofc.update() == {"demo_every": 1}


# ---------------------------------------------------------------- construction errors
@pytest.mark.parametrize(
    ("steer", "message"),
    [
        (
            ["optim.lrr"],
            "OFC: steerable key 'optim.lrr' is not a leaf of the config (did you mean "
            "'optim.lr', 'optim.sched' or 'optim.betas'?)",
        ),
        (
            ["optim"],
            "OFC: steerable key 'optim' is not a leaf of the config; it is a section, steer its "
            "fields: optim.lr, optim.betas, optim.sched",
        ),
        ("optim.lr", "OFC: steerables must be a list of keys, got the string 'optim.lr'"),
    ],
)
def test_bad_steerables(tmp_path: Path, steer: Any, message: str) -> None:
    with pytest.raises(OFCError) as exc:
        make(tmp_path, steer=steer)
    assert str(exc.value) == message
    assert not (tmp_path / "ofc.ini").exists()


def test_union_variant_is_not_steerable(tmp_path: Path) -> None:
    @dataclass
    class A:
        x: int = 1

    @dataclass
    class B:
        y: int = 2

    @dataclass
    class U:
        module: A | B = field(default_factory=A)

    with pytest.raises(OFCError) as exc:
        make(tmp_path, U(), ["module"])
    assert str(exc.value) == (
        "OFC: steerable key 'module' is not a leaf of the config; it is a section, steer its "
        "fields: module.x"
    )
    with make(tmp_path, U(), ["module.x"]) as o:  # fields of the current variant are fine
        set_line(tmp_path / "ofc.ini", "module.x", "4")
        settle(o)
        assert o.update() == {"module.x": 4}


def test_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(
        OFCError, match=r"^OFC: expected a dataclass instance or an argparse.Namespace, got dict$"
    ):
        OFC({"a": 1}, ["a"], tmp_path / "ofc.ini")


# ---------------------------------------------------------------- existing files
def test_user_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    path.write_text("[training]\nlr = 1\n")
    with pytest.raises(OFCError) as exc:
        make(tmp_path)
    assert str(exc.value) == (
        f"OFC: {path} exists and is not an OFC file; it was left as it is: pass another ofc_file"
    )
    assert path.read_text() == "[training]\nlr = 1\n"


def test_ofc_file_of_another_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    path.write_text(f"{HEADER}\n[OFC]\nmomentum = 0.9\n")
    with pytest.raises(OFCError) as exc:
        make(tmp_path)
    assert str(exc.value) == (
        f"OFC: {path} is an OFC file for another config (keys not in this config: momentum); "
        "it was left as it is: pass another ofc_file"
    )


def test_own_stale_file_is_rewritten_from_config(tmp_path: Path) -> None:
    with make(tmp_path) as o:
        set_line(o.ofc_file, "demo_every", "5")
    with make(tmp_path) as o2:  # a new run: the file describes this run's config
        assert "demo_every = 100" in o2.ofc_file.read_text()
        assert o2.cfg.demo_every == 100


def test_adopt_existing_resumes_steered_values(tmp_path: Path) -> None:
    with make(tmp_path) as o:
        set_line(o.ofc_file, "demo_every", "5")
    cfg = Cfg()
    with make(tmp_path, cfg, adopt_existing=True) as o2:
        assert cfg.demo_every == 5
        assert "demo_every = 5" in o2.ofc_file.read_text()
        assert [(c.key, c.new, c.source) for c in o2.history] == [("demo_every", 5, "resume")]
        assert provenance(cfg)["demo_every"] == "ofc:step=0"
        settle(o2)
        assert o2.update() == {}


def test_prefigure_style_file_is_recognised(tmp_path: Path) -> None:
    """prefigure wrote ``[OFC]`` files without our header; one for these keys may be replaced."""
    path = tmp_path / "ofc.ini"
    path.write_text("[OFC]\ndemo_every = 5\nseed = 3\n")
    with make(tmp_path) as o:
        assert path.read_text().startswith(HEADER)
        assert o.cfg.demo_every == 100


def test_file_of_a_live_process_is_refused(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "ofc.ini"
    with make(tmp_path) as o:
        text = o.ofc_file.read_text()
    path.write_text(text.replace(f"pid={os.getpid()}", f"pid={os.getppid()}"))
    with pytest.raises(OFCError) as exc:
        make(tmp_path)
    assert str(exc.value) == (
        f"OFC: {path} is in use by the running process {os.getppid()}; it was left as it is: "
        "pass another ofc_file"
    )
    assert socket.gethostname() in path.read_text()


def test_two_live_ofcs_on_one_file(tmp_path: Path) -> None:
    o = make(tmp_path)
    with pytest.raises(OFCError) as exc:
        make(tmp_path)
    assert str(exc.value) == (
        f"OFC: {tmp_path / 'ofc.ini'} is already controlled by another live OFC in this "
        "process; close() it first or pass another ofc_file"
    )
    o.close()
    make(tmp_path).close()


def test_foreign_history_file_is_refused(tmp_path: Path) -> None:
    hist = tmp_path / "ofc-history.jsonl"
    hist.write_text("my notes\n")
    with pytest.raises(OFCError) as exc:
        make(tmp_path)
    assert str(exc.value) == (
        f"OFC: history file {hist} exists and is not an OFC history; it was left as it is: "
        "pass another history_file"
    )
    assert hist.read_text() == "my notes\n"


# ---------------------------------------------------------------- history, callbacks, provenance
def test_history_file_and_records(ofc: OFC, tmp_path: Path) -> None:
    path = tmp_path / "ofc.ini"
    set_line(path, "out", "/data/x")
    set_line(path, "color", "GREEN")
    settle(ofc)
    ofc.update(step=12)
    lines = [json.loads(x) for x in (tmp_path / "ofc-history.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in r.items() if k != "time"} for r in lines] == [
        {"step": 12, "key": "out", "old": "out", "new": "/data/x", "source": "file"},
        {"step": 12, "key": "color", "old": "RED", "new": "GREEN", "source": "file"},
    ]
    assert all(re.match(r"\d{4}-\d\d-\d\dT", r["time"]) for r in lines)
    assert [dataclasses.asdict(c)["new"] for c in ofc.history] == [Path("/data/x"), Color.GREEN]


def test_step_fn_and_call_count(tmp_path: Path) -> None:
    with make(tmp_path) as o:
        for _ in range(3):
            o.update()
        set_line(o.ofc_file, "demo_every", "1")
        settle(o)
        o.update()
        assert o.history[-1].step == 4  # the 4th call
    steps = iter([1000])
    with make(tmp_path, step_fn=lambda: next(steps)) as o:
        set_line(o.ofc_file, "demo_every", "2")
        settle(o)
        o.update()
        assert o.history[-1].step == 1000


def test_on_change_callbacks(ofc: OFC, tmp_path: Path) -> None:
    seen: list[tuple[Any, Any]] = []
    ofc.on_change("optim.lr", lambda new, old: seen.append((new, old)))
    set_line(tmp_path / "ofc.ini", "optim.lr", "0.01")
    settle(ofc)
    ofc.update()
    assert seen == [(0.01, 0.001)]


def test_failing_callback_warns_value_stays(ofc: OFC, tmp_path: Path) -> None:
    def boom(new: Any, old: Any) -> None:
        raise RuntimeError("no optimizer yet")

    ofc.on_change("demo_every", boom)
    set_line(tmp_path / "ofc.ini", "demo_every", "3")
    settle(ofc)
    with pytest.warns(OFCWarning) as rec:
        assert ofc.update() == {"demo_every": 3}
    assert str(rec[0].message) == (
        "OFC: callback test_failing_callback_warns_value_stays.<locals>.boom for demo_every "
        "raised RuntimeError('no optimizer yet'); demo_every = 3 stays applied"
    )
    assert ofc.cfg.demo_every == 3


def test_on_change_unknown_key(ofc: OFC) -> None:
    with pytest.raises(OFCError) as exc:
        ofc.on_change("optim.l", print)
    assert str(exc.value) == (
        "OFC.on_change: 'optim.l' is not a steerable key (did you mean 'optim.lr', "
        "'optim.sched' or 'optim.betas'?)"
    )


# ---------------------------------------------------------------- GUI hook
def test_submit_validates_all_or_nothing(ofc: OFC, tmp_path: Path) -> None:
    before = (tmp_path / "ofc.ini").read_text()
    errors = ofc.submit({"optim.lr": "fast", "demo_every": "3", "seed": "1", "nme": "x"})
    assert errors == {
        "optim.lr": "gui: optim.lr: expected float, got 'fast'",
        "seed": "gui: seed: not steerable",
        "nme": "gui: nme: unknown key (did you mean 'name'?)",
    }
    assert (tmp_path / "ofc.ini").read_text() == before
    assert ofc.update() == {}


def test_submit_writes_file_and_applies_as_gui(ofc: OFC, tmp_path: Path) -> None:
    assert ofc.submit({"optim.lr": "0.02", "use_ema": "True", "name": "run"}) == {}
    assert ofc.pending()
    assert "optim.lr = 0.02" in (tmp_path / "ofc.ini").read_text()
    assert ofc.update(step=5) == {"optim.lr": 0.02, "use_ema": True}
    assert provenance(ofc.cfg)["optim.lr"] == "ofc:gui:step=5"
    assert {c.source for c in ofc.history} == {"gui"}
    settle(ofc)  # the watcher sees the file it wrote: no second change
    assert ofc.update() == {}


def test_gui_helpers(ofc: OFC) -> None:
    assert ofc.text_values()["optim.betas"] == "[0.9, 0.999]"
    assert ofc.describe("use_ema") == "bool"
    assert ofc.values()["color"] is Color.RED


# ---------------------------------------------------------------- argparse.Namespace (legacy)
def test_namespace_flat_keys_typed_by_value(tmp_path: Path) -> None:
    ns = argparse.Namespace(lr=0.1, steps=10, name="a", flag=False, sizes=[1, 2], extra=None)
    with OFC(ns, None, tmp_path / "ofc.ini", poll_interval=3600) as o:
        assert o.steerables == ["lr", "steps", "name", "flag", "sizes", "extra"]
        path = o.ofc_file
        for key, raw in [("lr", "0.5"), ("flag", "True"), ("sizes", "[3]"), ("extra", "(1, 'x')")]:
            set_line(path, key, raw)
        set_line(path, "steps", "1.5")
        settle(o)
        with pytest.warns(OFCWarning, match=r"steps: expected int, got '1\.5'; keeping 10"):
            changes = o.update()
        assert changes == {"lr": 0.5, "flag": True, "sizes": [3], "extra": (1, "x")}
        assert vars(ns)["lr"] == 0.5 and ns.steps == 10


def test_namespace_types_override(tmp_path: Path) -> None:
    ns = argparse.Namespace(steps=10)
    with OFC(ns, ["steps"], tmp_path / "ofc.ini", types={"steps": float}, poll_interval=3600) as o:
        set_line(o.ofc_file, "steps", "1.5")
        settle(o)
        assert o.update() == {"steps": 1.5}


# ---------------------------------------------------------------- the real watcher thread
def test_watcher_thread_applies_edit(tmp_path: Path) -> None:
    cfg = Cfg()
    with OFC(cfg, ["optim.lr"], tmp_path / "ofc.ini") as o:
        set_line(o.ofc_file, "optim.lr", "0.25")
        deadline = time.monotonic() + 10
        changes: dict[str, Any] = {}
        while not changes and time.monotonic() < deadline:
            changes = o.update()
            time.sleep(0.01)
        assert changes == {"optim.lr": 0.25}
        thread = o._thread
    assert thread is not None and not thread.is_alive()  # close() stopped it


# ---------------------------------------------------------------- W&B and imports
def test_logs_changes_to_active_wandb_run(tmp_path: Path) -> None:
    import wandb

    run = wandb.init(project="ofc-test", mode="offline", dir=tmp_path)
    try:
        with make(tmp_path) as o:
            set_line(o.ofc_file, "optim.lr", "0.125")
            set_line(o.ofc_file, "color", "GREEN")
            settle(o)
            o.update()
            run.log({"loss": 1.0})
            assert run.summary["args/optim.lr"] == 0.125
            assert run.summary["args/color"] == "GREEN"
    finally:
        run.finish()


def test_light_imports_and_no_wandb_import(tmp_path: Path) -> None:
    code = f"""
import sys, dataclasses, time
import config_utils.ofc
from config_utils.atomic import write_atomic
@dataclasses.dataclass
class C:
    lr: float = 0.1
o = config_utils.ofc.OFC(C(), ["lr"], {str(tmp_path / "ofc.ini")!r}, poll_interval=3600)
p = o.ofc_file
write_atomic(p, p.read_text().replace("lr = 0.1", "lr = 0.2"))
o.poll(); o.poll()
assert o.update() == {{"lr": 0.2}}
o.close()
heavy = [m for m in ("torch", "wandb", "pytorch_lightning", "gradio", "tyro") if m in sys.modules]
print(heavy)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]", out.stderr


# ---------------------------------------------------------------- processes and ranks
def test_non_zero_rank_leaves_the_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A DDP worker (rank announced by the launcher) neither writes nor watches the file."""
    monkeypatch.setenv("LOCAL_RANK", "1")
    with make(tmp_path) as o:
        assert not o.ofc_file.exists()
        assert o._thread is None
        with pytest.raises(OFCError, match=r"^OFC.submit: only rank 0 owns the OFC file$"):
            o.submit({"demo_every": "1"})


def test_cannot_be_pickled(ofc: OFC) -> None:
    import pickle

    with pytest.raises(OFCError) as exc:
        pickle.dumps(ofc)
    assert str(exc.value) == (
        "OFC objects cannot be pickled or sent to another process; create the OFC in each "
        "process (Lightning: use strategy='ddp', not 'ddp_spawn')"
    )
