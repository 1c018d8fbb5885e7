"""Config files as layers (docs/design.md, "Layers and provenance", layer 2): every format, every declared type, line numbers.

The same values written in .ini, .toml, .yaml/.yml and .json must give the same typed config,
and every value must carry ``FILE:LINE`` so that errors and ``--print-config`` point at it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from cli_configs import AllTypes, Color, Level, LossModule2Config, ModelConfig, TrainConfig

from config_utils.errors import SourceError
from config_utils.layers import merge
from config_utils.sources.files import read_file, read_ini


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return p


EXPECTED = AllTypes(
    i=7,
    f=2.5,
    b=True,
    s="hello # world",
    p=Path("data/train"),
    lit=3,
    color=Color.GREEN,
    level=Level.HIGH,
    opt=None,
    opt_s=None,
    ints=[1, 2, 3],
    pair=(4, "four"),
    many=(1.5, 2.5),
    paths=[Path("a"), Path("b c")],
    colors=[Color.RED, Color.BLUE],
    weights={"a": 0.5, "b": 2.0},
    model=ModelConfig(hidden=64, use_bias=False, dims=[8, 8, 2], color=Color.BLUE),
)

INI = """
# a file in prefigure's style, extended with nested keys
[DEFAULTS]
# how many
# of them
i = 7
f = 2.5   # inline comment
b = yes
s = "hello # world"   ; quoted text keeps its '#'
p = data/train
lit = 3
color = green
level = HIGH
opt = None
opt_s = null
ints = [1, 2, 3]
pair = 4, four
many = 1.5 2.5
paths = ["a", "b c"]
colors = RED, blue
weights.a = 0.5
model.hidden = 64

[weights]
b = 2

[model]
use-bias = false  ; dashes as in CLI flags
dims = 8 8 2
color = Color.BLUE
"""

TOML = """
i = 7
f = 2.5
b = true
s = "hello # world"
p = "data/train"
lit = 3
color = "green"
level = "HIGH"
ints = [1, 2, 3]
pair = [4, "four"]
many = [1.5, 2.5]
paths = ["a", "b c"]
colors = ["RED", "blue"]

[weights]
a = 0.5
b = 2

[model]
hidden = 64
use_bias = false
dims = [8, 8, 2]
color = "BLUE"
"""

YAML = """
i: 7
f: 2.5
b: yes
s: "hello # world"   # a yaml comment
p: data/train
lit: 3
color: green
level: HIGH
opt: null
opt_s: ~
ints: [1, 2, 3]
pair: [4, four]
many: [1.5, 2.5]
paths: [a, b c]
colors: [RED, blue]
weights:
  a: 0.5
  b: 2
model:
  hidden: 64
  use_bias: false
  dims: [8, 8, 2]
  color: BLUE
"""

JSON = """
{
  "i": 7,
  "f": 2.5,
  "b": true,
  "s": "hello # world",
  "p": "data/train",
  "lit": 3,
  "color": "green",
  "level": "HIGH",
  "opt": null,
  "opt_s": null,
  "ints": [1, 2, 3],
  "pair": [4, "four"],
  "many": [1.5, 2.5],
  "paths": ["a", "b c"],
  "colors": ["RED", "blue"],
  "weights": {"a": 0.5, "b": 2},
  "model": {
    "hidden": 64,
    "use_bias": false,
    "dims": [8, 8, 2],
    "color": "BLUE"
  }
}
"""


@pytest.mark.parametrize(
    ("name", "text"),
    [("all.ini", INI), ("all.toml", TOML), ("all.yaml", YAML), ("all.yml", YAML), ("all.json", JSON)],
)
def test_every_format_gives_the_same_typed_config(tmp_path: Path, name: str, text: str) -> None:
    layer = read_file(write(tmp_path, name, text))
    cfg, prov = merge(AllTypes, [layer])
    expected = EXPECTED
    if name.endswith(".toml"):  # TOML has no null: those two keep their defaults
        expected = AllTypes(**{**vars(EXPECTED), "opt": 5, "opt_s": "x"})
    assert cfg == expected
    assert type(cfg.lit) is int and type(cfg.f) is float and type(cfg.weights["b"]) is float
    assert all(src.startswith(name) for key, src in prov.items() if key not in ("opt", "opt_s"))


def test_ini_sources_are_file_and_line(tmp_path: Path) -> None:
    layer = read_file(write(tmp_path, "defaults.ini", INI))
    sources = {k: v.source for k, v in layer.values.items()}
    assert sources["i"] == "defaults.ini:5"
    assert sources["f"] == "defaults.ini:6"
    assert sources["weights.a"] == "defaults.ini:20"
    assert sources["weights.b"] == "defaults.ini:24"  # `[weights]` section prefixes its keys
    assert sources["model.use_bias"] == "defaults.ini:27"
    _, prov = merge(AllTypes, [layer])
    assert prov["model.hidden"] == "defaults.ini:21"
    assert prov["weights"] == "defaults.ini:24"  # the last entry written wins the dict's source
    assert prov["model.dims"] == "defaults.ini:28"


def test_ini_comment_lines_above_a_key_are_its_help(tmp_path: Path) -> None:
    layer = read_ini(write(tmp_path, "defaults.ini", INI))
    assert layer.help["i"] == "how many of them"
    assert "f" not in layer.help  # an inline comment is not help
    assert "p" not in layer.help


def test_ini_inline_comments_and_quotes(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "c.ini",
        """
        [DEFAULTS]
        a = 1 # one
        b = 2 ; two
        c = "x ; y" # z
        d = 'it''s'
        e = #not-a-comment-without-space
        """,
    )
    values = {k: v.value for k, v in read_ini(p).values.items()}
    assert values == {"a": "1", "b": "2", "c": '"x ; y"', "d": "'it''s'", "e": "#not-a-comment-without-space"}


def test_ini_keys_outside_any_section_dashes_and_dotted_sections(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "c.ini",
        """
        name = "top"
        [loss.module]
        _type = LossModule2
        p3 = [1, 2]
        [DEFAULT]
        seed = 4
        """,
    )
    cfg, prov = merge(TrainConfig, [read_ini(p)])
    assert cfg.name == "top" and cfg.seed == 4
    assert cfg.loss.module == LossModule2Config(p3=[1.0, 2.0])
    assert prov["loss.module._type"] == "c.ini:3"
    assert prov["loss.module.p3"] == "c.ini:4"


def test_structured_formats_point_at_the_line_of_each_key(tmp_path: Path) -> None:
    cases: dict[str, tuple[str, dict[str, int]]] = {
        "c.toml": (TOML, {"i": 1, "weights.a": 16, "model.hidden": 20, "model.color": 23}),
        "c.yaml": (YAML, {"i": 1, "weights.b": 18, "model.dims": 22}),
        "c.json": (JSON, {"i": 2, "model.use_bias": 20, "weights.a": 17}),
    }
    for name, (text, lines) in cases.items():
        layer = read_file(write(tmp_path, name, text))
        for key, line in lines.items():
            assert layer.values[key].source == f"{name}:{line}", (name, key)


def test_toml_dotted_tables(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "c.toml",
        """
        [loss.module]
        _type = "LossModule2Config"
        p3 = [1.5]
        """,
    )
    layer = read_file(p)
    assert layer.values["loss.module.p3"].source == "c.toml:3"
    cfg, _ = merge(TrainConfig, [layer])
    assert cfg.loss.module == LossModule2Config(p3=[1.5])


def test_empty_files_are_empty_layers(tmp_path: Path) -> None:
    for name in ("e.ini", "e.toml", "e.yaml", "e.json"):
        text = "{}" if name.endswith(".json") else ""
        assert read_file(write(tmp_path, name, text)).values == {}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.ini", "[DEFAULTS]\nseed 3\n", "bad.ini:2: expected 'key = value' or '[section]', got 'seed 3'"),
        ("bad.json", '{\n  "a": 1,\n}\n', "bad.json:3: not valid JSON: Expecting property name enclosed in double quotes (column 1)"),
        ("bad.yaml", "a: [1, 2\nb: 3\n", "bad.yaml:2: not valid YAML: expected ',' or ']', but got ':'"),
        ("list.json", "[1, 2]", "list.json: expected a JSON mapping of keys at the top level, got list"),
        ("conf.txt", "a = 1", "{dir}/conf.txt: unsupported config file type '.txt'; expected .ini, .toml, .yaml, .yml or .json"),
    ],
)
def test_unreadable_files_name_the_file_and_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    p = write(tmp_path, name, text)
    with pytest.raises(SourceError) as exc:
        read_file(p)
    assert str(exc.value) == message.format(dir=tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as exc:
        read_file(tmp_path / "nope.ini")
    assert str(exc.value) == f"config file not found: {tmp_path / 'nope.ini'}"


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as exc:
        read_file(write(tmp_path, "bad.toml", "a = = 1\n"))
    assert str(exc.value) == "bad.toml: not valid TOML: Invalid value (at line 1, column 5)"


def _merge_text(tmp_path: Path, name: str, text: str) -> Any:
    return merge(TrainConfig, [read_file(write(tmp_path, name, text))])[0]


def test_a_whole_mapping_for_a_sub_config_is_not_dropped(tmp_path: Path) -> None:
    cfg = _merge_text(tmp_path, "m.ini", "[DEFAULTS]\nmodel = {'hidden': 3}\n")
    assert cfg.model.hidden == 3
    cfg = _merge_text(tmp_path, "m.json", '{"loss": {"module": {"_type": "LossModule2", "p3": [2]}}}')
    assert cfg.loss.module == LossModule2Config(p3=[2.0])
