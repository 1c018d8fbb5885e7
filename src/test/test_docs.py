"""The documentation site builds without a warning, and every code block on it runs as written.

Why: the site (MkDocs + Material, API reference from the docstrings by mkdocstrings) is where a
newcomer goes after the README. A broken link, a missing anchor or a docstring reference that
no longer resolves is a warning, and ``mkdocs build --strict`` turns every warning into a
failure; a code block that no longer runs is caught by running the page as a newcomer would
(``doc_blocks.py``: in order, in an empty directory; a page marked
``<!-- session: OTHER.md -->`` continues OTHER.md's session). ``make docs`` builds the site.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from doc_blocks import parse_blocks, run_blocks, runnable_kind, session_of, structure_problems

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))


def blocks_of(page: str) -> list:
    return parse_blocks((DOCS / page).read_text(encoding="utf-8"), f"docs/{page}")


def chain(page: str) -> list[str]:
    """``page`` and the pages whose sessions it continues, first one first."""
    order = [page]
    while (before := session_of((DOCS / order[0]).read_text(encoding="utf-8"))) is not None:
        assert (DOCS / before).is_file(), f"docs/{order[0]}: continues the session of a missing page {before}"
        assert before not in order, f"docs/{page}: sessions continue each other in a circle: {order}"
        order.insert(0, before)
    return order


RUNNABLE = [p for p in PAGES if any(b.skip is None and runnable_kind(b) for b in blocks_of(p))]


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    """Every warning (a dead link, an anchor that is gone, an API name that no longer
    resolves, a page missing from the nav's files) fails the build."""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's banner about its successor
    )
    assert done.returncode == 0, done.stdout + done.stderr
    site = tmp_path / "site"
    assert (site / "index.html").is_file()
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    # the API reference is generated from the docstrings, not written by hand
    assert "push_config" in reference and "configure_submodules" in reference


def test_every_page_is_in_the_nav() -> None:
    """A page that is not in the nav cannot be found from the site."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml uses Material's !!python/name tags for Markdown extensions; only the nav matters
    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)

    def pages(item: object) -> list[str]:
        if isinstance(item, str):
            return [item]
        if isinstance(item, dict):
            return [p for v in item.values() for p in pages(v)]
        if isinstance(item, list):
            return [p for v in item for p in pages(v)]
        return []

    in_nav = set(pages(config["nav"]))
    assert [p for p in PAGES if p not in in_nav] == []


@pytest.mark.parametrize("page", PAGES)
def test_the_markers_of_each_page_are_right(page: str) -> None:
    assert structure_problems(blocks_of(page)) == []
    chain(page)  # a session marker names a page that exists, without a circle


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE)
def test_every_block_of_the_page_runs_in_order(page: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    blocks = [b for p in chain(page) for b in blocks_of(p)]
    ran = run_blocks(blocks, work)
    assert any(w.startswith(f"docs/{page}:") for w in ran), ran
