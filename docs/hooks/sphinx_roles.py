"""A griffe extension for the API reference: regsearch's docstrings use Sphinx roles
(``:class:`~regsearch.data.Dataset```) and reST literal blocks (``::``), which mkdocstrings'
Markdown would show as typed; here a role becomes a code span of the name it shows (the last
part after ``~``, as Sphinx writes it) and a paragraph's closing ``::`` a colon."""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Object

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`(~?)([^`]+)`")
LITERAL = re.compile(r"(?<=\S)::(?=\n)")


def markdown(text: str) -> str:
    """``text`` with each Sphinx role as a code span and each ``::`` as ``:``."""

    def code(match: re.Match[str]) -> str:
        short, target = match.group(1), match.group(2)
        shown = re.sub(r"\s*<.*>$", "", target)  # :meth:`text <target>` shows text
        return f"`{shown.rsplit('.', 1)[-1] if short else shown}`"

    return LITERAL.sub(":", ROLE.sub(code, text))


class SphinxRoles(Extension):
    def on_instance(self, *, obj: Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
