"""Text from results files, made safe for report.md (which lands in ``$GITHUB_STEP_SUMMARY``).

Evidence, reasons and paths come from files anyone can write. Put into Markdown raw, a newline
ends the list item or inline code it was in, and what follows becomes a heading, raw HTML or
a link. ``code`` renders one value as a single inline code span; ``text`` as plain text.
Both give one line whatever the input, and neither lets HTML through.
"""

from __future__ import annotations

import re
from typing import Any

_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def one_line(value: Any) -> str:
    """``value`` as one line: each run of line breaks becomes `` ⏎ ``."""
    return _LINE_BREAKS.sub(" ⏎ ", str(value))


def code(value: Any) -> str:
    """An inline code span holding ``value`` literally (CommonMark: a code span's fence is a
    backtick run longer than any run inside it; a space pads content that starts or ends with
    a backtick). HTML inside a code span is shown, never interpreted."""
    content = one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * (longest + 1)
    if content.startswith("`") or content.endswith("`") or not content.strip():
        content = f" {content} "
    return f"{fence}{content}{fence}"


def text(value: Any) -> str:
    """``value`` as plain Markdown text on one line, with ``&`` and ``<`` escaped so that no
    HTML tag or entity from it is interpreted."""
    return one_line(value).replace("&", "&amp;").replace("<", "&lt;")
