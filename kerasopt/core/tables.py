"""Plain-text and Markdown tables for reports and command output."""

from __future__ import annotations


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """Aligned columns with a dashed rule under the header.

    Example:

    >>> print(text_table(["a", "bb"], [["1", "2"]]))
    a  bb
    -  --
    1  2
    """
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """The lines of a GitHub-flavoured Markdown table.

    Example:

    >>> markdown_table(["a"], [["1"]])
    ['| a |', '|---|', '| 1 |']
    """
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
