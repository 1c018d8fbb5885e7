"""The one reader of files that come from outside the program: config files, run records,
sweep specs and state, a trial's metrics, the OFC file.

Why one: any such path may be a FIFO (an ``open`` blocks forever), a symlink to
``/dev/zero`` (a ``read()`` fills the memory), a file of gigabytes, text that is not UTF-8,
or YAML whose aliases expand to billions of nodes. Each reader used to guard against some of
these in its own way; now every one calls :func:`read_text` (or :func:`read_bytes`) and, for
structured text, :func:`load_json` / :func:`load_yaml`, and all of them refuse the same
inputs with the same one-line messages.

A refusal is a :class:`ReadProblem` (a :class:`~config_utils.errors.SourceError`) carrying
``kind`` so that a caller which must not fail (the OFC watcher) can tell "no file yet" from
"something that is not a file" without parsing the message.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from pathlib import Path
from typing import Any, BinaryIO

from .errors import SourceError

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_DEPTH",
    "MAX_NODES",
    "ReadProblem",
    "load_json",
    "load_yaml",
    "open_regular",
    "check_size",
    "read_bytes",
    "read_head",
    "read_text",
]

DEFAULT_LIMIT = 16 * 1024 * 1024
"""Bytes a file may hold unless the caller says otherwise (configs are kilobytes)."""

MAX_DEPTH = 100
"""Nesting deeper than any config; deeper input is refused before it costs recursion."""

MAX_NODES = 200_000
"""Values a parsed document may hold, counting every expansion of a YAML alias."""

_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


class ReadProblem(SourceError):
    """A path that holds nothing readable as the expected file.

    ``kind`` is one of ``missing``, ``not-regular``, ``too-large``, ``unreadable``,
    ``not-utf8``, ``invalid`` (the text does not parse) and ``too-big`` (parsed, but more
    values or nesting than any config has). ``detail`` is the message without the path.
    """

    def __init__(self, path: str | Path, kind: str, detail: str, line: int | None = None) -> None:
        self.path = str(path)
        self.kind = kind
        self.detail = detail
        self.line = line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {detail}")


def _kind_of(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _open_regular(path: str | Path) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file at ``path``, opened non-blocking (a FIFO never
    blocks the open) and checked with ``fstat`` on that descriptor (no race between a check
    and the open); :class:`ReadProblem` for anything else."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise ReadProblem(path, "missing", "no such file") from None
    except IsADirectoryError:
        raise ReadProblem(path, "not-regular", "is a directory, not a file") from None
    except OSError as exc:
        raise ReadProblem(path, "unreadable", f"cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise ReadProblem(path, "unreadable", f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ReadProblem(path, "not-regular", f"is {_kind_of(st.st_mode)}, not a regular file")
    return fd, st


def read_bytes(path: str | Path, *, limit: int = DEFAULT_LIMIT) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    The path is opened non-blocking and checked with ``fstat`` on the open descriptor (no
    race between a check and the open) before a byte is read; at most ``limit + 1`` bytes are
    ever read, whatever the file claims its size is.
    """
    fd, st = _open_regular(path)
    try:
        if st.st_size > limit:
            raise ReadProblem(path, "too-large", f"{st.st_size} bytes, more than the {_size(limit)} allowed")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            try:
                chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            except BlockingIOError:  # a regular file never blocks; be safe all the same
                break
            except OSError as exc:
                raise ReadProblem(path, "unreadable", f"cannot be read ({exc.strerror or exc})") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(fd)
    if total > limit:
        raise ReadProblem(path, "too-large", f"more than the {_size(limit)} allowed")
    return b"".join(chunks)


def read_head(path: str | Path, size: int) -> bytes:
    """The first ``size`` bytes (fewer when the file is shorter) of the regular file at
    ``path``: for a look at a file's first line (a "generated by" mark) whatever its length."""
    fd, _ = _open_regular(path)
    try:
        try:
            return os.read(fd, size)
        except OSError as exc:
            raise ReadProblem(path, "unreadable", f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def read_text(path: str | Path, *, limit: int = DEFAULT_LIMIT) -> str:
    """The UTF-8 text of the regular file at ``path`` (see :func:`read_bytes`)."""
    data = read_bytes(path, limit=limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadProblem(path, "not-utf8", f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def open_regular(path: str | Path) -> BinaryIO:
    """A file opened for reading from any offset: non-blocking, and only when it is a regular
    file (``OSError`` otherwise: ``FileNotFoundError`` when missing, ``EINVAL`` "not a regular
    file"), checked on the open descriptor.

    For readers that follow a file another process keeps growing (a run's ``metrics.jsonl``
    and ``output.log``, a W&B run log): the run owns its directory and may put a FIFO there (a
    plain ``open`` waits forever for a writer) or a link to ``/dev/zero`` (a read never ends).
    The caller bounds how much it reads; whole files go through :func:`read_text`.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"


def load_json(text: str, *, where: str | Path, duplicates: bool = False) -> Any:
    """Parse JSON text; ``where`` names the file in messages.

    A key given twice in one object is refused (JSON keeps the last silently) unless
    ``duplicates`` is true; nesting and size are bounded as for YAML.
    """

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out and not duplicates:
                raise ReadProblem(where, "invalid", f"key {key!r} is given twice in one object")
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except ReadProblem:
        raise
    except json.JSONDecodeError as exc:
        raise ReadProblem(where, "invalid", f"not valid JSON: {exc.msg} (column {exc.colno})",
                          line=exc.lineno) from None
    except RecursionError:
        raise ReadProblem(where, "too-big", f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise ReadProblem(where, "invalid", f"not valid JSON: {str(exc).splitlines()[0]}") from None
    check_size(data, where)
    return data


def check_size(data: Any, where: str | Path) -> None:
    """Refuse parsed data nested deeper than :data:`MAX_DEPTH` or holding more than
    :data:`MAX_NODES` values (counted as a walk sees them: shared objects count every time)."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ReadProblem(where, "too-big", f"more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise ReadProblem(where, "too-big", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)


def load_yaml(text: str, *, where: str | Path, max_nodes: int = MAX_NODES) -> Any:
    """Parse YAML text safely (``yaml.SafeLoader``) within bounds; ``where`` names the file.

    Refused, each with the line where the problem starts: nesting deeper than
    :data:`MAX_DEPTH`, a document whose aliases expand to more than ``max_nodes`` values (an
    "alias bomb" is a few hundred bytes), and a mapping that gives the same key twice (YAML
    says keys are unique; PyYAML keeps the last one silently). Needs PyYAML; a missing
    PyYAML is a ``ModuleNotFoundError`` for the caller to turn into its extra's message.
    """
    import yaml

    if _yaml_too_deep(text):  # PyYAML is pure Python and crawls through deep input first
        raise ReadProblem(where, "too-big", f"nested deeper than {MAX_DEPTH} levels")
    loader: Any = None
    try:
        loader = _bounded_loader(yaml, max_nodes)(text)  # the reader refuses control characters
        return loader.get_single_data()
    except _Refused as exc:
        raise ReadProblem(where, exc.kind, exc.detail, line=exc.line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", None) or exc).splitlines()[0]
        line = mark.line + 1 if mark is not None else None
        raise ReadProblem(where, "invalid", f"not valid YAML: {problem}", line=line) from None
    except RecursionError:
        raise ReadProblem(where, "too-big", f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer beyond Python's digit limit, a bad date
        raise ReadProblem(where, "invalid", f"not valid YAML: {str(exc).splitlines()[0]}") from None
    finally:
        if loader is not None:
            loader.dispose()


_BRACKETS = re.compile(r"""[\[\]{}]|"(?:[^"\\]|\\.)*"|'[^']*'""")
_DASHES = re.compile(r"(?:-[ \t]+){" + str(MAX_DEPTH + 1) + ",}")


def _yaml_too_deep(text: str) -> bool:
    """A cheap look before PyYAML: flow brackets nested (outside quotes), a run of
    ``- - -`` items, or an indentation deeper than any config nests."""
    if text.count("[") + text.count("{") > MAX_DEPTH:
        depth = 0
        for match in _BRACKETS.finditer(text):
            ch = match.group()
            if ch in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return True
            elif ch in "]}":
                depth -= 1
    if _DASHES.search(text):
        return True
    return any(len(line) - len(line.lstrip(" ")) > 4 * MAX_DEPTH for line in text.split("\n"))


class _Refused(Exception):
    def __init__(self, kind: str, detail: str, line: int | None) -> None:
        super().__init__(detail)
        self.kind, self.detail, self.line = kind, detail, line


_LOADERS: dict[int, Any] = {}


def _bounded_loader(yaml: Any, max_nodes: int) -> Any:
    """A ``SafeLoader`` subclass that counts, while composing, how many values each node
    stands for (an alias counts as everything it refers to) and how deep it sits, and that
    refuses duplicate keys. Counting during composition stops a bomb before it is built."""
    cached = _LOADERS.get(max_nodes)
    if cached is not None:
        return cached

    class BoundedLoader(yaml.SafeLoader):  # type: ignore[name-defined,misc]
        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._sizes: dict[int, int] = {}
            self._depth = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused("too-big", f"nested deeper than {MAX_DEPTH} levels", mark.line + 1)
            try:
                node = super().compose_node(parent, index)
            finally:
                self._depth -= 1
            size = self._sizes.get(id(node))
            if size is None:
                size = 1
                if isinstance(node, yaml.SequenceNode):
                    size += sum(self._sizes.get(id(child), 1) for child in node.value)
                elif isinstance(node, yaml.MappingNode):
                    size += sum(
                        self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value
                    )
                self._sizes[id(node)] = size
            if size > max_nodes:
                raise _Refused(
                    "too-big",
                    f"expands to more than {max_nodes} values (YAML aliases repeat what they name)",
                    node.start_mark.line + 1,
                )
            return node

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: PyYAML refuses it below
                    continue
                if first is not None:
                    raise _Refused(
                        "invalid",
                        f"key {key!r} is given twice in one mapping (first on line {first})",
                        key_node.start_mark.line + 1,
                    )
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    _LOADERS[max_nodes] = BoundedLoader
    return BoundedLoader
