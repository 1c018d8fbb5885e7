"""The one ini dialect: one reader and one writer for config files, OFC files and generated
``defaults.ini`` files.

Why one module: a value written by one part of the library (the OFC file, ``flow_create
--from-run``'s ``defaults.ini``, ``--print-config``) must read back *identically* through every
other part. With two readers that disagree on what a line is, a value nobody edited can change
(a string holding ``\\x1c`` or ``\\u2028`` used to be cut in two by ``str.splitlines``). So:

Lines
    Only ``\\n`` ends a line (a ``\\r`` right before it is dropped, so CRLF files work). Every
    other character that Python's ``str.splitlines`` treats as a break (``\\r``, ``\\x0b``,
    ``\\x0c``, ``\\x1c``–``\\x1e``, ``\\x85``, ``\\u2028``, ``\\u2029``) is ordinary text here;
    the writer never writes one raw anyway (:func:`format_value` quotes and escapes them). A
    UTF-8 byte-order mark at the start is ignored.
Comments
    A line whose first non-blank character is ``#`` or ``;``. The comment lines directly above
    a key (no blank line between) are its help text (:attr:`Entry.comment_above`). After a
    value, `` #`` or `` ;`` (whitespace, then the mark) starts an inline comment — except
    inside quotes when the value starts with a quote or a bracket (``'a # b'``,
    ``['x ; y', 2]``), so every quoted string survives.
Sections
    ``[title]``. Titles in ``top_sections`` (``DEFAULTS``, ``DEFAULT``, ... for config files;
    ``OFC`` for the OFC file) hold top-level keys; any other ``[a.b]`` prefixes its keys with
    ``a.b.``. A key before any section is top-level. The same section twice is an error that
    names both lines.
Keys and values
    ``key = value`` or ``key: value`` (the first ``=`` or ``:``). Keys keep their case, dashes
    become underscores (``accum-batches`` is ``accum_batches``), dotted keys work anywhere. The
    same key twice (also through a section and a dotted key) is an error that names both lines.
    An indented line right after a key continues its value (joined with ``\\n``), as in
    configparser. Values stay *text* here (``value_text``); the one typed conversion
    (:func:`parse_value`, i.e. :func:`config_utils.convert.convert`) turns them into field
    types, and :func:`format_value` is its exact inverse.

Strict reading (config files) raises :class:`~config_utils.errors.IniError` at the first
problem, in one line. Lenient reading (the OFC file, where one bad line must not block the
valid edits of the same save) returns every problem and drops only the keys concerned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .convert import convert, format_value, outside_quotes
from .errors import IniError

__all__ = [
    "CONFIG_TOP_SECTIONS",
    "Entry",
    "IniDocument",
    "Problem",
    "Section",
    "cut_inline_comment",
    "entry_line",
    "format_value",
    "key_name",
    "normalize_key",
    "parse_value",
    "read_ini",
    "write_ini",
]

CONFIG_TOP_SECTIONS: tuple[str, ...] = ("DEFAULTS", "DEFAULT", "defaults", "default")
_SECTION = re.compile(r"^\[([^\]]*)\]\s*(?:[#;].*)?$")
_KEY_PART = re.compile(r"^[^\s=:#;\[\]'\"\\.]+$")
_SHOWN = 60


class _Record:
    """Equality and repr by slots. The records here are plain slotted classes rather than
    dataclasses: a dataclass definition costs ~0.8 ms at every program start, and every
    command line that reads an ini file would pay it."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Entry(_Record):
    """One ``key = value`` of an ini text.

    ``key``: the full dotted key (section prefix + key, dashes as underscores).
    ``value_text``: the value as written, inline comment cut, not unquoted or converted.
    ``line``: the 1-based line of the key (0 for an entry that was not read from a text).
    ``comment_above``: the comment lines directly above the key, without their ``#``.
    ``section``: the section title as written (None before any section).
    """

    __slots__ = ("key", "value_text", "line", "comment_above", "section")

    def __init__(
        self,
        key: str,
        value_text: str,
        line: int = 0,
        comment_above: tuple[str, ...] = (),
        section: str | None = None,
    ) -> None:
        self.key = key
        self.value_text = value_text
        self.line = line
        self.comment_above = comment_above
        self.section = section

    @property
    def help(self) -> str:
        """The comment above the key as one line of help text."""
        return " ".join(c for c in self.comment_above if c)


class Section(_Record):
    """A ``[title]`` line."""

    __slots__ = ("title", "line")

    def __init__(self, title: str, line: int) -> None:
        self.title = title
        self.line = line


class Problem(_Record):
    """Something wrong with one line of a leniently read text; ``key`` when it concerns a key.
    ``message`` is one line, starting with SOURCE:LINE."""

    __slots__ = ("line", "message", "key")

    def __init__(self, line: int, message: str, key: str | None = None) -> None:
        self.line = line
        self.message = message
        self.key = key


class IniDocument:
    """What :func:`read_ini` found: entries in file order, sections, comments (``(line, text
    without '#')``), problems."""

    __slots__ = ("source", "entries", "sections", "comments", "problems")

    def __init__(self, source: str) -> None:
        self.source = source
        self.entries: list[Entry] = []
        self.sections: list[Section] = []
        self.comments: list[tuple[int, str]] = []
        self.problems: list[Problem] = []

    def by_key(self) -> dict[str, Entry]:
        """Entries by full dotted key."""
        return {e.key: e for e in self.entries}

    def values(self) -> dict[str, str]:
        """``{key: value_text}``."""
        return {e.key: e.value_text for e in self.entries}


def normalize_key(key: str) -> str:
    """``accum-batches`` → ``accum_batches`` (ini keys may be spelled like CLI flags)."""
    return key.strip().replace("-", "_")


def _normalize_path(path: str) -> str:
    return ".".join(normalize_key(part) for part in path.split("."))


def key_name(key: str) -> str:
    """A key as a message shows it: as is when it is a plain printable name, else its repr
    (a key holding a line break or a quote must not break the one-line message)."""
    if key and key.isprintable() and not any(c in key for c in " '\"\\"):
        return key
    return _shown(key)


def _strip_parts(path: str) -> str:
    return ".".join(part.strip() for part in path.split("."))


def _shown(text: str) -> str:
    """A line as shown in a message: repr, cut to a readable length."""
    if len(text) <= _SHOWN:
        return repr(text)
    return repr(text[:_SHOWN]) + f"... ({len(text)} characters)"


def _lines(text: str) -> list[str]:
    """Split at ``\\n`` only (CRLF too); every other break character is ordinary text."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def cut_inline_comment(value: str) -> str:
    """Cut a `` # comment`` / `` ; comment`` after a value, never inside quotes.

    Quotes are tracked (with backslash escapes) when the value starts with a quote or a
    bracket: ``"a # b"  # note`` → ``"a # b"``; ``['x # y', 2]  ; note`` → ``['x # y', 2]``.
    """
    value = value.strip()
    for i, ch in outside_quotes(value, track=value[:1] in "'\"[({"):
        if ch in "#;" and i > 0 and value[i - 1].isspace():
            return value[:i].rstrip()
    return value


def _split_assignment(line: str) -> tuple[str, str, str]:
    """Split at the first ``=`` or ``:`` (configparser's delimiters)."""
    positions = [i for i in (line.find("="), line.find(":")) if i > 0]
    if not positions:
        return line, "", ""
    i = min(positions)
    return line[:i].strip(), line[i], line[i + 1 :]


def read_ini(
    text: str,
    *,
    source: str,
    top_sections: Iterable[str] = CONFIG_TOP_SECTIONS,
    strict: bool = True,
    dashes_to_underscores: bool = True,
) -> IniDocument:
    """Read ini ``text`` (see the module docstring). ``source`` names it in messages.

    ``strict=True`` raises :class:`IniError` at the first problem. ``strict=False`` collects
    the problems in :attr:`IniDocument.problems` and leaves out the entries they concern (a
    key set twice is left out entirely: neither line is trusted).
    ``dashes_to_underscores=False`` keeps keys exactly as written (the OFC file, whose keys
    are the config's own names).
    """
    norm = _normalize_path if dashes_to_underscores else _strip_parts
    top = set(top_sections)
    doc = IniDocument(source=source)
    prefix = ""
    section_title: str | None = None
    section_lines: dict[str, int] = {}
    comments: list[str] = []
    current: int | None = None  # index in doc.entries of the entry a continuation extends
    first_line: dict[str, int] = {}
    duplicated: set[str] = set()

    def problem(lineno: int, message: str, key: str | None = None) -> None:
        full = f"{source}:{lineno}: {message}"
        if strict:
            raise IniError(full)
        doc.problems.append(Problem(lineno, full, key))

    for lineno, line in enumerate(_lines(text), start=1):
        stripped = line.strip()
        if not stripped:
            comments = []
            current = None
            continue
        if stripped[0] in "#;":
            body = stripped[1:].lstrip("#;").strip()
            comments.append(body)
            doc.comments.append((lineno, body))
            current = None
            continue
        if line[:1].isspace() and current is not None:
            old = doc.entries[current]
            piece = cut_inline_comment(stripped)
            doc.entries[current] = Entry(
                old.key, f"{old.value_text}\n{piece}", old.line, old.comment_above, old.section
            )
            continue
        current = None
        if stripped.startswith("["):
            match = _SECTION.match(stripped)
            if match is None or not match.group(1).strip():
                problem(lineno, f"expected '[section]', got {_shown(stripped)}")
                comments = []
                continue
            title = match.group(1).strip()
            prefix = "" if title in top else norm(title) + "."
            doc.sections.append(Section(title, lineno))
            if prefix in section_lines:
                problem(
                    lineno,
                    f"section [{key_name(title)}] appears twice (lines {section_lines[prefix]} and "
                    f"{lineno}); merge them into one",
                )
            else:
                section_lines[prefix] = lineno
            section_title = title
            comments = []
            continue
        name, sep, value = _split_assignment(stripped)
        if not sep:
            problem(lineno, f"expected 'key = value' or '[section]', got {_shown(stripped)}")
            comments = []
            continue
        if not name:
            problem(lineno, f"a value without a key: {_shown(stripped)}")
            comments = []
            continue
        key = prefix + norm(name)
        if key in first_line:
            duplicated.add(key)
            problem(
                lineno,
                f"{key_name(key)}: set twice (lines {first_line[key]} and {lineno}); keep one",
                key,
            )
            comments = []
            continue
        first_line[key] = lineno
        doc.entries.append(
            Entry(key, cut_inline_comment(value), lineno, tuple(comments), section_title)
        )
        current = len(doc.entries) - 1
        comments = []
    if duplicated:
        doc.entries = [e for e in doc.entries if e.key not in duplicated]
    return doc


def parse_value(text: str, tp: Any, *, key: str, where: str) -> Any:
    """An entry's ``value_text`` as the declared type (the one typed conversion)."""
    return convert(text, tp, key=key, where=where)


def _check_key(key: str) -> list[str]:
    parts = key.split(".")
    if not all(_KEY_PART.match(p) for p in parts):
        raise IniError(
            f"{key!r}: cannot be written as an ini key (each dotted part must be a name "
            "without spaces, quotes, brackets, '=', ':', '#' or ';')"
        )
    return parts


def _check_value(key: str, text: str) -> None:
    if "\n" in text or "\r" in text or cut_inline_comment(text) != text:
        raise IniError(
            f"{key}: the value text {_shown(text)} would not read back as written; "
            "format it with format_value()"
        )


def _comment_lines(text: str) -> list[str]:
    return [f"# {c}".rstrip() for c in text.splitlines()] if text else ["#"]


def entry_line(key: str, value_text: str) -> str:
    """One ``key = value`` line exactly as :func:`write_ini` writes it (also used by the OFC
    when it replaces a single key's line in a file a person edited, so the two never differ);
    :class:`IniError` naming the key when it or the value could not be read back."""
    _check_key(key)
    _check_value(key, value_text)
    return f"{key} = {value_text}".rstrip()


def write_ini(
    entries: Iterable[Entry],
    *,
    header: Sequence[str] = (),
    top_section: str | None = "DEFAULTS",
    sections: bool = True,
) -> str:
    """The ini text of ``entries`` (``value_text`` as :func:`format_value` makes it).

    ``header``: comment lines at the top (written as ``# line``). ``sections=True`` groups
    dotted keys into ``[a.b]`` sections (``model.hidden`` → ``hidden`` under ``[model]``) with
    top-level keys under ``[top_section]``; ``sections=False`` writes every key, dotted, under
    ``[top_section]`` (the OFC file). :func:`read_ini` gives back the same keys, values and
    comments; a key or value that could not come back raises :class:`IniError` naming it.
    """
    groups: dict[str, list[tuple[str, Entry]]] = {}
    for entry in entries:
        parts = _check_key(entry.key)
        _check_value(entry.key, entry.value_text)
        if sections and len(parts) > 1:
            groups.setdefault(".".join(parts[:-1]), []).append((parts[-1], entry))
        else:
            groups.setdefault("", []).append((entry.key, entry))
    out = [line for h in header for line in _comment_lines(h)]
    seen: set[str] = set()
    order = sorted(groups, key=lambda g: g != "")  # top-level keys first (stable otherwise)
    for group in order:
        items = groups[group]
        title = group or top_section
        if title is not None:
            if out:
                out.append("")
            out.append(f"[{title}]")
        for name, entry in items:
            if entry.key in seen:
                raise IniError(f"{entry.key}: given twice; an ini file holds each key once")
            seen.add(entry.key)
            for comment in entry.comment_above:
                out.extend(_comment_lines(comment))
            out.append(entry_line(name, entry.value_text))
    return "\n".join(out) + "\n"
