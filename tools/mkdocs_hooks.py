"""MkDocs hook: the docstrings' Sphinx roles shown as plain code on the site.

The docstrings are written for readers of the source and use Sphinx roles
(``:class:`~config_utils.errors.ConfigError```, ``:func:`require```). mkdocstrings renders the
text after a role as code but leaves the role's name in front of it (":class:" before the
name). This hook removes the role's name and, for a ``~`` target, keeps only the last part of
the dotted name, as Sphinx shows it. Registered in mkdocs.yml (``hooks:``).
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):(<code>)(~?)([^<]*)</code>")


def _plain(m: re.Match[str]) -> str:
    name = m[3].rsplit(".", 1)[-1] if m[2] else m[3]
    return f"{m[1]}{name}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    """Called by MkDocs with each page's HTML."""
    return _ROLE.sub(_plain, html)
