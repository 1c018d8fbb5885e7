"""Pulling a run's config: URL parsing, the real ``wandb.Api`` against a loopback GraphQL
server, offline run directories, and one clear bounded error per failure (docs/design.md, "Weights & Biases")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql_server import GraphQLServer, closed_port_url

from config_utils.errors import RunSourceError
from config_utils.sources.wandb import parse_run_path, pull_config, run_label

CONFIG = {"lr": 0.001, "model": {"hidden": 256, "_type": "BigModelConfig"}, "token": "OMITTED"}
RECORD: dict[str, Any] = {
    "format": "flows-workspace/run-record",
    "version": 1,
    "config": {"lr": 0.5, "model": {"_type": "SmallModelConfig", "width": 3}},
}


@pytest.fixture(scope="module")
def server() -> Iterator[GraphQLServer]:
    """One server per module: each ``wandb.Api`` call starts wandb-core (~1 s) anyway."""
    with GraphQLServer(
        runs={
            ("ent", "proj", "abc123"): {"config": CONFIG},
            ("ent", "proj", "withrec"): {
                "config": {"lr": "ignored when the record exists"},
                "files": {"run_record.json": json.dumps(RECORD)},
            },
        }
    ) as srv:
        yield srv


@pytest.fixture
def online(server: GraphQLServer, monkeypatch: pytest.MonkeyPatch) -> GraphQLServer:
    server.mode = "ok"
    server.env(monkeypatch)
    return server


# -- parse_run_path / run_label ------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "https://wandb.ai/ent/proj/runs/abc123?workspace=user-x",
        "https://wandb.ai/ent/proj/runs/abc123",
        "https://wandb.ai/ent/proj/runs/abc123/",
        "https://wandb.ai/ent/proj/runs/abc123/overview",
        "https://wandb.ai/ent/proj/runs/abc123/overview?workspace=user-x#x",
        "http://127.0.0.1:8080/ent/proj/runs/abc123",
        "ent/proj/runs/abc123",
        "ent/proj/abc123",
        " ent/proj/abc123/ ",
    ],
)
def test_parse_run_path_accepts_what_people_paste(source: str) -> None:
    assert parse_run_path(source) == ("ent", "proj", "abc123")
    assert run_label(source) == "wandb:ent/proj/abc123"


@pytest.mark.parametrize(
    "source",
    [
        "https://wandb.ai/ent/proj",
        "https://wandb.ai/ent/proj/abc123",
        "https://wandb.ai/ent/proj/runs/abc123/not-a-page/deeper",
        "ent/proj",
        "abc123",
        "ent/proj/runs/",
        "",
    ],
)
def test_parse_run_path_rejects_malformed_sources(source: str) -> None:
    with pytest.raises(RunSourceError) as err:
        parse_run_path(source)
    assert str(err.value) == (
        f"wandb run {source.strip()!r}: not a W&B run URL, entity/project/run_id, or existing run "
        "directory (expected https://wandb.ai/ENTITY/PROJECT/runs/RUN_ID or ENTITY/PROJECT/RUN_ID)"
    )


def test_pull_malformed_url_fails_before_any_request(online: GraphQLServer) -> None:
    before = len(online.requests)
    with pytest.raises(RunSourceError, match=r"^wandb run 'https://wandb.ai/ent/proj': not a W&B"):
        pull_config("https://wandb.ai/ent/proj")
    assert len(online.requests) == before


# -- online pulls through the real client ---------------------------------------------------
def test_pull_url_returns_run_config_with_tags_and_omitted(online: GraphQLServer) -> None:
    got = pull_config("https://wandb.ai/ent/proj/runs/abc123?workspace=user-x")
    assert got == CONFIG
    ops = [op for op, _ in online.requests]
    assert "Run" in ops


def test_pull_prefers_the_run_record_file(online: GraphQLServer) -> None:
    assert pull_config("ent/proj/withrec") == RECORD["config"]


def test_run_not_found(online: GraphQLServer) -> None:
    with pytest.raises(RunSourceError) as err:
        pull_config("ent/proj/nope")
    assert str(err.value) == f"wandb:ent/proj/nope: run not found on {online.url}"


def test_unauthorised(online: GraphQLServer) -> None:
    online.mode = "unauthorized"
    with pytest.raises(RunSourceError) as err:
        pull_config("ent/proj/abc123")
    assert str(err.value) == (
        f"wandb:ent/proj/abc123: the W&B server at {online.url} rejected the API key (unauthorised)"
    )


def test_no_api_key_fails_at_once_without_prompt_even_on_a_terminal(
    online: GraphQLServer, tmp_path: Path
) -> None:
    """A fresh process (wandb caches credentials per process) whose stdin and stderr are a
    terminal: wandb alone would prompt for a key there and wait forever."""
    import pty

    code = (
        "from config_utils.sources.wandb import pull_config\n"
        "from config_utils.errors import RunSourceError\n"
        "try:\n"
        "    pull_config('ent/proj/abc123')\n"
        "except RunSourceError as e:\n"
        "    print(e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "WANDB_API_KEY"}
    env.update(WANDB_BASE_URL=online.url, WANDB_SILENT="false", HOME=str(tmp_path), TERM="xterm")
    before = len(online.requests)
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            stdin=secondary,
            stderr=secondary,
            stdout=subprocess.PIPE,
            env=env,
            timeout=60,
            text=True,
            check=False,
        )
    finally:
        os.close(primary)
        os.close(secondary)
    assert done.stdout.strip() == (
        f"wandb:ent/proj/abc123: no W&B API key configured for {online.url} "
        "(set WANDB_API_KEY or run `wandb login`)"
    )
    assert len(online.requests) == before


def test_server_hanging_is_bounded_by_timeout(online: GraphQLServer) -> None:
    online.mode = "hang"
    with pytest.raises(RunSourceError) as err:
        pull_config("ent/proj/abc123", timeout=2)
    assert str(err.value) == (
        f"wandb:ent/proj/abc123: the W&B server at {online.url} did not answer within 2 s"
    )


def test_server_down_fails_within_ten_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue requires the bound (≤ 10 s with the default timeout), so this one is timed."""
    url = closed_port_url()
    monkeypatch.setenv("WANDB_BASE_URL", url)
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    start = time.monotonic()
    with pytest.raises(RunSourceError) as err:
        pull_config("https://wandb.ai/ent/proj/runs/abc123?workspace=user-x")
    elapsed = time.monotonic() - start
    assert str(err.value) == (
        f"wandb:ent/proj/abc123: cannot connect to the W&B server at {url} (server down?)"
    )
    assert elapsed <= 10.0, f"server-down pull took {elapsed:.1f} s"


# -- local sources ------------------------------------------------------------------------
def test_existing_local_path_wins_over_entity_project_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "ent" / "proj" / "abc123"
    run_dir.mkdir(parents=True)
    (run_dir / "run_record.json").write_text(json.dumps(RECORD))
    monkeypatch.chdir(tmp_path)
    assert pull_config("ent/proj/abc123") == RECORD["config"]
    assert run_label("ent/proj/abc123") == f"run:{run_dir}"


def test_local_directory_that_is_no_run(tmp_path: Path) -> None:
    with pytest.raises(RunSourceError) as err:
        pull_config(str(tmp_path))
    assert str(err.value) == (
        f"run {str(tmp_path)!r}: not a run directory (expected a directory with run_record.json, "
        "or an offline W&B run directory wandb/offline-run-* with its run-<id>.wandb log)"
    )


def test_corrupt_run_record(tmp_path: Path) -> None:
    record = tmp_path / "run_record.json"
    record.write_text("{not json")
    with pytest.raises(RunSourceError) as err:
        pull_config(str(tmp_path))
    assert str(err.value).startswith(f"run {record}: {record}:1: not valid JSON: ")


def test_online_record_that_is_not_a_record(online: GraphQLServer) -> None:
    online.add_run("ent", "proj", "badrec", config={"a": 1}, files={"run_record.json": "[1]"})
    with pytest.raises(RunSourceError) as err:
        pull_config("ent/proj/badrec")
    assert str(err.value) == (
        "wandb:ent/proj/badrec: run_record.json is not a flows-workspace run record"
    )


@pytest.fixture(scope="module")
def offline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real offline run written by plain ``wandb`` (no run record), in a child process so the
    log is complete (run.finish + teardown) before we read it."""
    base = tmp_path_factory.mktemp("offline")
    script = (
        "import wandb\n"
        "run = wandb.init(project='P', config={'a': 1})\n"
        "run.config.update({'a': 2, 'm': {'x': [1, 2], 't': 'OMITTED', 'n': None}},"
        " allow_val_change=True)\n"
        "run.finish()\n"
        "wandb.teardown()\n"
    )
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(base),
        "WANDB_SILENT": "true",
        "WANDB_ERROR_REPORTING": "false",
    }
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=120)
    (run_dir,) = (base / "wandb").glob("offline-run-*")
    return run_dir


def test_offline_run_dir_without_record_reads_the_log(offline_run: Path) -> None:
    expected = {"a": 2, "m": {"x": [1, 2], "t": "OMITTED", "n": None}}
    assert pull_config(str(offline_run)) == expected
    assert pull_config(str(offline_run / "files")) == expected
    assert run_label(str(offline_run / "files")) == f"wandb-offline:{offline_run}"
    latest = offline_run.parent / "latest-run"
    if latest.exists():
        assert pull_config(str(latest)) == expected


def test_offline_run_dir_prefers_the_record(offline_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / offline_run.name
    subprocess.run(["cp", "-r", str(offline_run), str(copy)], check=True)
    (copy / "files" / "run_record.json").write_text(json.dumps(RECORD))
    assert pull_config(str(copy)) == RECORD["config"]


def test_import_config_utils_imports_no_wandb() -> None:
    code = (
        "import sys, config_utils, config_utils.sources.wandb;"
        "assert 'wandb' not in sys.modules, 'wandb imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("short", "API key must have 40+ characters, has 5"),
        ("x" * 39 + "!", "API key may only contain the letters A-Z, digits and underscores"),
        (" " + "x" * 40, "it starts or ends with blanks"),
    ],
)
def test_malformed_api_key_is_named_and_no_server_is_contacted(
    online: GraphQLServer, monkeypatch: pytest.MonkeyPatch, key: str, problem: str
) -> None:
    monkeypatch.setenv("WANDB_API_KEY", key)
    before = len(online.requests)
    with pytest.raises(RunSourceError) as err:
        pull_config("ent/proj/abc123")
    assert str(err.value) == (
        f"wandb:ent/proj/abc123: the W&B API key in WANDB_API_KEY is malformed ({problem}); "
        "no server was contacted"
    )
    assert len(online.requests) == before


def test_http_5xx_is_named_as_the_cause(online: GraphQLServer) -> None:
    """wandb-core retries a failing server until the timeout and then reports only the wait;
    the message names the server's failure instead."""
    online.mode = "error"
    with pytest.raises(RunSourceError) as err:
        pull_config("ent/proj/abc123", timeout=2)
    assert str(err.value) == (
        f"wandb:ent/proj/abc123: the W&B server at {online.url} failed (HTTP 500, still failing "
        "after 2 s of retries)"
    )
