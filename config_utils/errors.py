"""One exception hierarchy for everything the library raises on purpose.

Library code raises these; only command-line entry points (``config_utils.cli``,
``flow_init``, ``flow_create``) catch :class:`ConfigError`, print its message and exit
with status 2. Every message is written for the person at the keyboard: it names the
key, the file and line or the run, what was expected, and the closest valid name.
"""

from __future__ import annotations

from collections.abc import Iterable


class ConfigError(Exception):
    """Base class of every error this library raises on purpose."""


class RegistryError(ConfigError):
    """A problem with registering or looking up a name in a :class:`Registry`."""


class UnknownNameError(RegistryError, KeyError):
    """A name that is not registered. A ``KeyError`` too, so ``except KeyError`` keeps working."""

    def __str__(self) -> str:  # KeyError would repr() the message and add quotes
        return str(self.args[0]) if self.args else ""


class DuplicateNameError(RegistryError):
    """A second, different object registered under a taken name."""


class SignatureError(RegistryError):
    """A config field that the registered target cannot accept."""


class InstantiationError(ConfigError):
    """Building an object from its config failed; the message names the config path."""


class SourceError(ConfigError):
    """A config source (file, run record, W&B run) could not be read."""


class IniError(SourceError):
    """An ini text that cannot be read (or a value that cannot be written) in the one dialect."""


class UnknownKeyError(SourceError):
    """A key in a file or run that the config type does not have."""


class ConversionError(ConfigError, ValueError):
    """A raw value that does not convert to the declared field type."""


class RunSourceError(SourceError):
    """A previous run (W&B or local) could not be pulled."""


class OFCError(ConfigError):
    """A problem setting up on-the-fly control (bad steerable key, unusable file)."""


class WorkspaceError(ConfigError):
    """``flow_init`` / ``flow_create`` refused to act (would overwrite, bad name, ...)."""


def closest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The candidates most similar to ``name``, best first (may be empty)."""
    pool = list(dict.fromkeys(candidates))
    import difflib  # only when a message is being written: it costs start-up time otherwise

    found = difflib.get_close_matches(name, pool, n=n, cutoff=0.6)
    if not found:
        lowered = {c.lower().replace("-", "_"): c for c in pool}
        found = [
            lowered[m]
            for m in difflib.get_close_matches(name.lower().replace("-", "_"), lowered, n=n, cutoff=0.6)
        ]
    return found


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` or an empty string when nothing is close."""
    found = closest(name, candidates)
    if not found:
        return ""
    if len(found) == 1:
        return f" (did you mean {found[0]!r}?)"
    return " (did you mean " + ", ".join(repr(f) for f in found[:-1]) + f" or {found[-1]!r}?)"
