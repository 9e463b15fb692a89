"""The nbclient that executes a student's notebook, with a cap on what each cell may print."""

from __future__ import annotations

from typing import Any

import nbformat
from nbclient import NotebookClient
from nbformat import NotebookNode

MAX_CELL_OUTPUT = 256 * 1024


class GradingClient(NotebookClient):
    """nbclient with a cap on how much one cell may print (an output flood stays small)."""

    def __init__(self, nb: NotebookNode, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.printed: dict[int, int] = {}

    def output(self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> NotebookNode | None:
        if msg["msg_type"] == "error":
            return super().output(outs, msg, display_id, cell_index)
        before = self.printed.get(cell_index, 0)
        self.printed[cell_index] = before + _content_size(msg["content"])
        if self.printed[cell_index] <= MAX_CELL_OUTPUT:
            return super().output(outs, msg, display_id, cell_index)
        if before <= MAX_CELL_OUTPUT and "text" in msg["content"]:  # keep what fits
            room = MAX_CELL_OUTPUT - before
            trimmed = {**msg, "content": {**msg["content"], "text": msg["content"]["text"][:room]}}
            super().output(outs, trimmed, display_id, cell_index)
        if before <= MAX_CELL_OUTPUT:  # say so once
            text = f"\n[gradekit: output cut here; a cell may print {MAX_CELL_OUTPUT >> 10} KB]\n"
            outs.append(nbformat.v4.new_output("stream", name="stderr", text=text))
        return None


def _content_size(content: dict[str, Any]) -> int:
    if "text" in content:
        return len(content["text"])
    return sum(len(str(value)) for value in content.get("data", {}).values())
