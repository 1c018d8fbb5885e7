"""The README runs as written: its python, ini and shell blocks, in order, in an empty directory.

Why: the README is the front door; a newcomer copies its tour block by block, and a block
that fails there stops them in the first five minutes. How blocks are run, and the markers
(``<!-- skip: REASON -->``, ``<!-- output of the block above -->``): ``doc_blocks.py``. The
site's pages (docs/) are run the same way by ``test_docs.py``.

The README is also the page a person sees first on the repository: what the project is and
the two set-up commands (``make demo``, ``make test``) must be on its first screen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from doc_blocks import parse_blocks, run_blocks, runnable_kind, structure_problems

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = parse_blocks(TEXT, "README.md")
FIRST_SCREEN = 24  # lines of a terminal or a laptop browser window above the fold


def test_the_two_setup_commands_are_on_the_first_screen() -> None:
    first = "\n".join(TEXT.splitlines()[:FIRST_SCREEN])
    for command in ("make demo", "make test"):
        assert re.search(rf"^{command}\b", first, re.M), f"`{command}` is not within the first {FIRST_SCREEN} lines"


def test_the_readme_is_a_front_door_not_the_manual() -> None:
    """The long tables live on the site; the README links there."""
    assert len(TEXT.splitlines()) <= 200, "the README grew past a short tour: move details to docs/"
    for page in ("getting-started.md", "prefigure-differences.md", "benchmarks.md", "development.md"):
        assert f"docs/{page}" in TEXT, f"the README does not link to docs/{page}"
        assert (ROOT / "docs" / page).is_file()


def test_the_readme_has_blocks_to_run() -> None:
    kinds = [runnable_kind(b) for b in BLOCKS if b.skip is None]
    assert kinds.count("python") >= 1 and kinds.count("shell") >= 3 and kinds.count("file") >= 2


def test_the_markers_of_the_page_are_right() -> None:
    """Skips give a reason; ``make``/``source``/``flow_init``/``pip`` blocks are marked (the
    test must not do to the machine what they do); an output block follows a shell block."""
    assert structure_problems(BLOCKS) == []


def test_parser_reads_markers_fences_and_file_names() -> None:
    text = (
        "intro\n\n<!-- skip: needs network -->\n```bash\ncurl x\n```\n\n"
        "```python\n# a.py\nx = 1\n```\n\n````ini\n# b.ini — comment\n[DEFAULTS]\n````\n"
        "```bash\necho hi\n```\n<!-- output of the block above -->\n```\nhi\n```\n"
    )
    blocks = parse_blocks(text)
    assert [(b.lang, b.skip, b.output, b.file_name) for b in blocks] == [
        ("bash", "needs network", False, None),
        ("python", None, False, "a.py"),
        ("ini", None, False, "b.ini"),
        ("bash", None, False, None),
        ("", None, True, None),
    ]
    assert blocks[3].code == "echo hi\n" and blocks[0].line == 4


def test_structure_problems_are_found() -> None:
    text = (
        "<!-- skip -->\n```bash\necho\n```\n\n```bash\nmake demo\n```\n\n"
        "```python\nx = 1\n```\n<!-- output of the block above -->\n```\n1\n```\n"
    )
    problems = structure_problems(parse_blocks(text, "page.md"))
    assert [p.split(":", 2)[2].strip() for p in problems] == [
        "say why the block is skipped",
        "`make demo` needs a <!-- skip: ... --> marker",
        "an output block must follow a shell block",
    ]


@pytest.mark.slow
def test_every_readme_block_runs_in_order(tmp_path: Path) -> None:
    work = tmp_path / "tour"
    work.mkdir()
    ran = run_blocks(BLOCKS, work)
    assert len(ran) >= 6, ran
