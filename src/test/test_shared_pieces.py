"""The shared pieces every reader, knob and rank check goes through (docs/design.md,
"Layout and imports"): one bounded reader, one number parser, one rank function."""

from __future__ import annotations

import os
import threading

import pytest

from config_utils.knobs import KnobError, env_number, parse_number
from config_utils.rank import process_rank
from config_utils.readers import ReadProblem, load_json, load_yaml, read_bytes, read_text


def test_reader_refuses_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done: list[str] = []

    def read() -> None:  # a blocking open would hang this thread forever
        try:
            read_text(fifo)
        except ReadProblem as exc:
            done.append(exc.kind)

    t = threading.Thread(target=read, daemon=True)
    t.start()
    t.join(5)
    assert done == ["not-regular"]
    with pytest.raises(ReadProblem, match="is a character device, not a regular file"):
        read_bytes("/dev/zero")
    with pytest.raises(ReadProblem, match="is a directory") as info:
        read_text(tmp_path)
    assert info.value.kind == "not-regular"
    with pytest.raises(ReadProblem, match="no such file") as info:
        read_text(tmp_path / "missing.ini")
    assert info.value.kind == "missing"


def test_reader_bounds_size_and_encoding(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 2048)
    assert read_text(big, limit=2048) == "x" * 2048
    with pytest.raises(ReadProblem, match="more than the 1 KiB allowed") as info:
        read_text(big, limit=1024)
    assert info.value.kind == "too-large"
    latin = tmp_path / "latin.ini"
    latin.write_bytes("café".encode("latin-1"))
    with pytest.raises(ReadProblem, match=r"latin.ini: not UTF-8 text \(unexpected end of data at byte 3\)"):
        read_text(latin)


def test_yaml_alias_bomb_is_refused_before_it_is_built():
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev, name = chr(96 + i), chr(97 + i)
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(ReadProblem, match=r"spec.yaml:\d+: expands to more than 200000 values") as info:
        load_yaml("\n".join(levels) + "\n", where="spec.yaml")
    assert info.value.kind == "too-big"


def test_yaml_duplicate_keys_and_depth_are_refused_with_their_line():
    with pytest.raises(ReadProblem, match=r"s.yaml:3: key 'lr' is given twice in one mapping \(first on line 1\)"):
        load_yaml("lr: 1\nbatch: 2\nlr: 3\n", where="s.yaml")
    with pytest.raises(ReadProblem, match="nested deeper than 100 levels"):
        load_yaml("[" * 150 + "]" * 150, where="s.yaml")
    # merge keys are not duplicates: the explicit key overrides the merged one, as YAML says
    assert load_yaml("b: &b {x: 1, y: 1}\nc:\n  <<: *b\n  x: 2\n", where="s")["c"] == {"x": 2, "y": 1}


def test_json_duplicate_keys_and_syntax_errors_name_the_line():
    with pytest.raises(ReadProblem, match="key 'a' is given twice"):
        load_json('{"a": 1, "a": 2}', where="s.json")
    with pytest.raises(ReadProblem, match=r"s.json:2: not valid JSON"):
        load_json('{"a": 1,\n}', where="s.json")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e309", "10**30", "", "abc", "True", "-5", "2.5"])
def test_knobs_refuse_what_is_not_a_finite_number_in_range(text):
    with pytest.raises(KnobError, match=r"^--seed: expected a whole number from 0 to 4294967295, got "):
        parse_number(text, knob="--seed", integer=True, minimum=0, maximum=2**32 - 1)


def test_knobs_accept_numbers_and_name_environment_variables(monkeypatch):
    assert parse_number(" 3 ", knob="k", integer=True) == 3
    assert parse_number("2.0", knob="k", integer=True) == 2
    assert parse_number("0.5", knob="k", minimum=0, above=True) == 0.5
    monkeypatch.setenv("FLOWS_X_TIMEOUT", "nan")
    with pytest.raises(KnobError, match=r"^FLOWS_X_TIMEOUT: expected a positive number \(seconds\), got 'nan'$"):
        env_number("FLOWS_X_TIMEOUT", 4.0, minimum=0, above=True, unit="seconds")
    monkeypatch.setenv("FLOWS_X_TIMEOUT", " ")
    assert env_number("FLOWS_X_TIMEOUT", 4.0, minimum=0, above=True) == 4.0


@pytest.mark.parametrize(
    ("env", "rank"),
    [
        ({}, 0),
        ({"LOCAL_RANK": "0", "SLURM_PROCID": "3"}, 3),  # fourth process of the job, first on its node
        ({"LOCAL_RANK": "1", "SLURM_PROCID": "0"}, 1),  # Lightning's second worker inside one SLURM task
        ({"RANK": "2", "SLURM_PROCID": "0"}, 2),
        ({"RANK": "0", "LOCAL_RANK": "0"}, 0),
        ({"NODE_RANK": "1"}, 1),
        ({"RANK": "x"}, 0),
    ],
)
def test_one_rank_answer(monkeypatch, env, rank):
    for var in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID", "PMI_RANK", "OMPI_COMM_WORLD_RANK",
                "JSM_NAMESPACE_RANK"):
        monkeypatch.delenv(var, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert process_rank() == rank
