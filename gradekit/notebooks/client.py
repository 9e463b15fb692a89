"""The nbclient that executes a student's notebook: whatever the kernel sends, the grader keeps
a bounded amount of it and never crashes on it.

The kernel is student code, so every message it sends is hostile until checked, in three
layers from the wire up:

- the grader's sockets reach the kernel through a :class:`~gradekit.notebooks.relay.MessageRelay`:
  no message over 4 MB (or 64 frames) gets into the grader's memory, and each socket queues
  two at most. A cut connection does not leave nbclient waiting: the reply or the end of
  output it lost is stood in for, and the cell says what happened;
- the channels hand on only well-formed messages of the types nbclient reads (anything else,
  comm messages included, is read and dropped): nbclient would raise on a message without
  its fields, or store widget state and echo outputs back for a widget mimic. There is no
  stdin channel: ``input()`` in the kernel raises;
- :class:`GradingClient` budgets what is stored: a cell prints at most
  :data:`MAX_CELL_OUTPUT` characters (streams and errors), its outputs take at most
  :data:`MAX_CELL_STORED` bytes in the executed notebook, all outputs at most
  :data:`MAX_NOTEBOOK_STORED`. What fits is kept, one note says where the cut is, and a cell's
  first error is always kept (shortened), so a failed cell never looks like a passing one.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

import nbformat
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.manager import KernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbformat import NotebookNode
from traitlets import Type

from gradekit.notebooks.relay import Cut, MessageRelay

MAX_CELL_OUTPUT = 256 * 1024      # characters a cell may print (streams, error messages)
MAX_CELL_STORED = 2 << 20         # bytes one cell's outputs may take in the executed notebook
MAX_NOTEBOOK_STORED = 8 << 20     # bytes all outputs may take: a few dozen figures
FIRST_ERROR = 1000                # characters of a cell's first error kept whatever the budget
OUTPUT_OVERHEAD = 100             # bytes an output takes in the notebook besides its content
LINE_OVERHEAD = 12                # bytes nbformat adds per line of text or list item (indent)
POLL_SECONDS = 0.25               # how soon a cut connection is noticed
RECONNECT_SECONDS = 10            # how long to wait for the channels to come back after a cut
MESSAGE_TOO_LARGE = "OutputTooLarge"


# -- channels ------------------------------------------------------------------------------
def _is_str(value: object) -> bool:
    return isinstance(value, str)


def _is_dict(value: object) -> bool:
    return isinstance(value, dict)


def _is_count(value: object) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _is_lines(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(line, str) for line in value)


def _is_str_or_none(value: object) -> bool:
    return value is None or isinstance(value, str)


def _is_version(value: object) -> bool:
    return isinstance(value, str) and value.partition(".")[0].isdigit()


def _is_transient(value: object) -> bool:
    return not value or (isinstance(value, dict) and _is_str_or_none(value.get("display_id")))


Shape = dict[str, Callable[[object], bool]]
DISPLAY: Shape = {"data": _is_dict, "metadata": _is_dict, "transient": _is_transient}
#: The iopub messages nbclient acts on, with the content fields it reads.
IOPUB: dict[str, Shape] = {
    "status": {"execution_state": _is_str},
    "execute_input": {"execution_count": _is_count},
    "stream": {"name": lambda v: v in ("stdout", "stderr"), "text": _is_str},
    "display_data": DISPLAY,
    "update_display_data": DISPLAY,
    "execute_result": {**DISPLAY, "execution_count": _is_count},
    "error": {"ename": _is_str, "evalue": _is_str, "traceback": _is_lines},
    "clear_output": {},
}
REPLY: Shape = {"status": _is_str}  # every shell message: nbclient reads a reply's status
SHELL: dict[str, Shape] = {"kernel_info_reply": {**REPLY, "protocol_version": _is_version}}
OPTIONAL = {"transient", "execution_count"}


class CheckedChannel(AsyncZMQSocketChannel):
    """A channel that hands on well-formed messages only and notices when the relay cut its
    connection, so that a stand-in can end what the lost message would have ended."""

    def __init__(self, socket: Any, session: Any, loop: Any = None) -> None:
        super().__init__(socket, session, loop)
        self.cuts_seen = 0

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:
        """The next good message within ``timeout`` seconds (forever if None), else Empty."""
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SECONDS if deadline is None else deadline - time.monotonic()
            if await self.socket.poll(int(max(0.0, min(left, POLL_SECONDS)) * 1000)):
                msg = self._read(await self.socket.recv_multipart())
                if msg is not None:
                    return msg
            elif (stand_in := self._after_cut()) is not None:
                return stand_in
            elif deadline is not None and time.monotonic() >= deadline:
                raise Empty

    def _read(self, frames: list[bytes]) -> dict[str, Any] | None:
        try:
            _, parts = self.session.feed_identities(frames)
            msg = self.session.deserialize(parts)
        except Exception:  # untrusted bytes: whatever fails to decode is the message's fault
            return None
        return msg if _well_formed(msg) and self.accepts(msg) else None

    def accepts(self, msg: dict[str, Any]) -> bool:
        """What this channel hands on, of the well-formed messages."""
        return True

    def _after_cut(self) -> dict[str, Any] | None:
        relay = getattr(self.socket.context, "relay", None) if self.socket else None
        if relay is None or self.cuts_seen == len(relay.cuts):
            return None
        cuts = relay.cuts[self.cuts_seen:]
        self.cuts_seen += len(cuts)
        mine = [cut for cut in cuts if cut.url == getattr(self.socket, "kernel_url", None)]
        return self.stand_in(mine[0]) if mine else None

    def stand_in(self, cut: Cut) -> dict[str, Any] | None:
        """The message to hand on in place of what ``cut`` lost, if any."""
        return None


class ShellChannel(CheckedChannel):
    """Replies; a reply lost to a cut becomes an error reply, so the cell ends now."""

    def __init__(self, socket: Any, session: Any, loop: Any = None) -> None:
        super().__init__(socket, session, loop)
        self.pending: str | None = None  # the request awaiting its reply
        self.lost: list[Cut] = []         # cuts that cost a reply

    def send(self, msg: dict[str, Any]) -> None:
        self.pending = msg["header"]["msg_id"]
        super().send(msg)

    def accepts(self, msg: dict[str, Any]) -> bool:
        if not _fits(msg["content"], SHELL.get(msg["msg_type"], REPLY)):
            return False
        if msg["parent_header"].get("msg_id") == self.pending:
            self.pending = None
        return True

    def stand_in(self, cut: Cut) -> dict[str, Any] | None:
        if self.pending is None:
            return None
        self.lost.append(cut)
        parent, self.pending = self.pending, None
        return _message("execute_reply", parent, {
            "status": "error", "ename": MESSAGE_TOO_LARGE, "traceback": [],
            "evalue": f"the kernel sent {cut.describe()}; the grader cut the connection and "
                      "the cell's result is lost: make the cell print (or raise) less"})


class IOPubChannel(CheckedChannel):
    """Outputs; when a cut loses the rest of a request's output, its end is stood in for."""

    def __init__(self, socket: Any, session: Any, loop: Any = None) -> None:
        super().__init__(socket, session, loop)
        self.busy: str | None = None  # the request whose output is under way

    def accepts(self, msg: dict[str, Any]) -> bool:
        shape = IOPUB.get(msg["msg_type"])
        if shape is None or not _fits(msg["content"], shape):
            return False
        if msg["msg_type"] == "status":
            state = msg["content"]["execution_state"]
            self.busy = msg["parent_header"].get("msg_id") if state == "busy" else None
        return True

    def stand_in(self, cut: Cut) -> dict[str, Any] | None:
        if self.busy is None:
            return None
        parent, self.busy = self.busy, None
        return _message("status", parent, {"execution_state": "idle"})


class _NoStdin:
    """The stdin channel of a grading kernel, never opened: ``input()`` in the kernel raises
    and nothing the kernel sends on stdin is ever read."""

    def is_alive(self) -> bool:
        return False


class GradingKernelClient(AsyncKernelClient):
    """The kernel client of :class:`GradingClient`: checked channels, no stdin, and its
    manager's relayed context."""

    shell_channel_class = Type(ShellChannel)
    iopub_channel_class = Type(IOPubChannel)
    control_channel_class = Type(CheckedChannel)

    def _context_default(self) -> Any:
        return self.parent.context  # the manager's, set by GradingClient; not ours to destroy

    @property
    def stdin_channel(self) -> Any:
        return _NoStdin()

    def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = False,
                       hb: bool = True, control: bool = True) -> None:
        super().start_channels(shell=shell, iopub=iopub, stdin=False, hb=hb, control=control)


def _well_formed(msg: object) -> bool:
    """The shape every message must have for jupyter_client and nbclient to read it."""
    if not isinstance(msg, dict) or not isinstance(msg.get("msg_type"), str):
        return False
    if not all(isinstance(msg.get(key), dict)
               for key in ("header", "parent_header", "metadata", "content")):
        return False
    return _is_str_or_none(msg["parent_header"].get("msg_id")) and \
        _is_count(msg["content"].get("execution_count"))


def _fits(content: dict[str, Any], shape: Shape) -> bool:
    return all((name in OPTIONAL and name not in content) or check(content.get(name))
               for name, check in shape.items())


def _message(msg_type: str, parent: str, content: dict[str, Any]) -> dict[str, Any]:
    """A message made up by the grader, in the shape the session's deserializer gives."""
    header = {"msg_id": uuid.uuid4().hex, "msg_type": msg_type}
    return {"header": header, "msg_id": header["msg_id"], "msg_type": msg_type,
            "parent_header": {"msg_id": parent}, "metadata": {}, "content": content,
            "buffers": []}


# -- budgets -------------------------------------------------------------------------------
@dataclass
class _Tally:
    """What one cell's outputs hold now, and the notes it has had."""

    text: int = 0
    stored: int = 0
    errors: int = 0
    notes: set[str] = field(default_factory=set)


NOTES = {
    "text": f"a cell may print {MAX_CELL_OUTPUT >> 10} KB",
    "cell": f"a cell's outputs may take {MAX_CELL_STORED >> 20} MB",
    "notebook": f"a notebook's outputs may take {MAX_NOTEBOOK_STORED >> 20} MB",
}


class GradingClient(NotebookClient):
    """nbclient whose kernel is reached through a relay, whose channels check every message,
    and which keeps each cell's and the notebook's outputs within budget."""

    def __init__(self, nb: NotebookNode, km: KernelManager, **kwargs: Any) -> None:
        super().__init__(nb, km=km, **kwargs)
        self.relay = MessageRelay()
        self.zmq_context = self.relay.context()
        km.context = self.zmq_context  # before the manager or its client opens any socket
        km.client_factory = GradingKernelClient
        self.tallies: dict[int, _Tally] = {}
        self.stored = 0  # what all outputs take now
        self.cuts_settled = 0  # cuts after which the channels are known to be back

    # -- a cell --------------------------------------------------------------------------
    async def async_execute_cell(self, cell: NotebookNode, cell_index: int,
                                 execution_count: int | None = None,
                                 store_history: bool = True) -> NotebookNode:
        self._forget(cell_index)  # nbclient starts the cell's outputs over
        self.clear_display_id_mapping(cell_index)
        await self._reconnected()
        cuts, lost = len(self.relay.cuts), len(self._shell().lost)
        try:
            return await super().async_execute_cell(cell, cell_index, execution_count,
                                                    store_history)
        finally:
            tally = self._tally(cell_index)
            for cut in self.relay.cuts[cuts:cuts + 1]:
                self._note(cell.outputs, tally, "cut",
                           f"output lost here; the kernel sent {cut.describe()}")
            for cut in self._shell().lost[lost:]:
                cell.outputs.append(nbformat.v4.new_output(
                    "error", ename=MESSAGE_TOO_LARGE, traceback=[],
                    evalue=f"the kernel sent {cut.describe()}; the grader cut the connection "
                           "and the cell's result is lost: make the cell print (or raise) less"))

    execute_cell = run_sync(async_execute_cell)

    async def _reconnected(self) -> None:
        """After a cut, wait until ZeroMQ has connected (and subscribed) again, so that the
        next cell's output is not lost to a publisher with no subscriber yet."""
        if len(self.relay.cuts) == self.cuts_settled:
            return
        self.cuts_settled = len(self.relay.cuts)
        assert self.kc is not None
        with contextlib.suppress(RuntimeError):  # a kernel that never answers: go on
            await self.kc._async_wait_for_ready(timeout=RECONNECT_SECONDS)

    def _shell(self) -> ShellChannel:
        assert self.kc is not None
        return self.kc.shell_channel

    # -- what the kernel sends -----------------------------------------------------------
    def output(self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> NotebookNode | None:
        if self.clear_before_next_output:  # a clear_output(wait=True) takes effect now
            outs[:] = []
            self.clear_display_id_mapping(cell_index)
            self.clear_before_next_output = False
            self._forget(cell_index)
        tally = self._tally(cell_index)
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            return self._print(outs, tally, content["name"], content["text"])
        fit = self._fit_error if kind == "error" else self._fit_display
        fitted, cut = fit(tally, content)
        out = None
        if fitted is not None:
            cost = _stored({k: v for k, v in fitted.items() if k != "transient"})
            try:
                out = super().output(outs, {**msg, "content": fitted}, display_id, cell_index)
            except nbformat.ValidationError:  # not an output nbformat can save: dropped
                out = None
            if out is not None:
                tally.stored += cost
                self.stored += cost
                if kind == "error":
                    tally.text += _error_chars(fitted)
        if cut is not None:  # after what was kept, so the note says where the cut is
            self._note(outs, tally, cut)
        return out

    def _print(self, outs: list[NotebookNode], tally: _Tally, name: str,
               text: str) -> NotebookNode | None:
        """Stream text, appended to the cell's last output when that is the same stream."""
        room = self._room(tally)
        chars = max(0, min(len(text), MAX_CELL_OUTPUT - tally.text))
        piece, cost = _shrink(lambda n: text[:n], chars, room, floor=0)
        cut = None if len(piece) == len(text) else \
            "text" if len(text) > MAX_CELL_OUTPUT - tally.text else self._tightest(tally)
        last = outs[-1] if outs else None
        if not piece:
            last = None
        elif last is not None and last.get("output_type") == "stream" and \
                last.get("name") == name:
            last["text"] += piece
        else:
            last = nbformat.v4.new_output("stream", name=name, text=piece)
            outs.append(last)
            cost += OUTPUT_OVERHEAD
        if piece:
            tally.text += len(piece)
            tally.stored += cost
            self.stored += cost
        if cut is not None:  # after what was kept, so the note says where the cut is
            self._note(outs, tally, cut)
        return last

    def _fit_error(self, tally: _Tally,
                   content: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """The error, shortened to the cell's room (its first error keeps its start at least),
        and the budget that shortened it."""
        floor = FIRST_ERROR if tally.errors == 0 else 0
        tally.errors += 1
        ename, evalue, lines = content["ename"][:200], content["evalue"], content["traceback"]

        def shortened(chars: int) -> dict[str, Any]:
            kept, left = [], chars - len(ename) - min(len(evalue), chars // 2)
            for line in reversed(lines):  # a traceback ends where the error is
                if len(line) > left:
                    break
                kept.append(line)
                left -= len(line)
            return {"ename": ename, "evalue": evalue[:chars // 2], "traceback": kept[::-1]}

        whole = _error_chars(content)
        chars = max(floor, min(whole, MAX_CELL_OUTPUT - tally.text))
        error, _ = _shrink(shortened, chars, self._room(tally), floor=floor)
        if error["evalue"] == evalue and len(error["traceback"]) == len(lines):
            return error, None
        return error, "text" if chars < whole else self._tightest(tally)

    def _fit_display(self, tally: _Tally,
                     content: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The display as sent if it fits, else its plain text as far as it fits (or None),
        and the budget that cut it."""
        room = self._room(tally)
        if _stored({"data": content["data"], "metadata": content["metadata"]}) + \
                OUTPUT_OVERHEAD <= room:
            return content, None
        cut = self._tightest(tally)
        plain = content["data"].get("text/plain")
        if not isinstance(plain, str):
            return None, cut
        text, _ = _shrink(lambda n: plain[:n], len(plain), room - OUTPUT_OVERHEAD, floor=0)
        return ({**content, "data": {"text/plain": text}, "metadata": {}} if text else None), cut

    def clear_output(self, outs: list[NotebookNode], msg: dict[str, Any],
                     cell_index: int) -> None:
        super().clear_output(outs, msg, cell_index)
        if not msg["content"].get("wait"):
            self._forget(cell_index)  # what was cleared no longer counts

    def _update_display_id(self, display_id: str, msg: dict[str, Any]) -> None:
        """Replace the outputs shown under ``display_id`` (in any cell), each as far as its
        cell's budget allows; an update that does not fit leaves the old output and a note."""
        content = msg["content"]
        try:
            new = nbformat.v4.new_output("display_data", data=content["data"],
                                         metadata=content["metadata"])
        except nbformat.ValidationError:
            return
        cost = _stored({"data": new.data, "metadata": new.metadata})
        for cell_index, indices in self._display_id_map.get(display_id, {}).items():
            if cell_index >= len(self.nb.cells):  # a probe cell that has gone
                continue
            outs = self.nb.cells[cell_index].get("outputs", [])
            tally = self._tally(cell_index)
            for index in indices:
                if index >= len(outs) or "data" not in outs[index]:
                    continue
                change = cost - _stored({"data": outs[index]["data"],
                                         "metadata": outs[index].get("metadata", {})})
                if change > self._room(tally):
                    self._note(outs, tally, self._tightest(tally))
                    continue
                outs[index]["data"], outs[index]["metadata"] = new.data, new.metadata
                tally.stored += change
                self.stored += change

    # -- the books -----------------------------------------------------------------------
    def _tally(self, cell_index: int) -> _Tally:
        return self.tallies.setdefault(cell_index, _Tally())

    def _forget(self, cell_index: int) -> None:
        tally = self.tallies.pop(cell_index, None)
        if tally is not None:
            self.stored -= tally.stored

    def _room(self, tally: _Tally) -> int:
        """Bytes the cell may still store."""
        return min(MAX_CELL_STORED - tally.stored, MAX_NOTEBOOK_STORED - self.stored)

    def _tightest(self, tally: _Tally) -> str:
        cell_left = MAX_CELL_STORED - tally.stored
        return "cell" if cell_left <= MAX_NOTEBOOK_STORED - self.stored else "notebook"

    def _note(self, outs: list[NotebookNode], tally: _Tally, reason: str,
              text: str | None = None) -> None:
        """Say once per cell and reason where output was cut (notes are not counted)."""
        if reason not in tally.notes:
            tally.notes.add(reason)
            text = f"output cut here; {NOTES[reason]}" if text is None else text
            outs.append(nbformat.v4.new_output("stream", name="stderr",
                                               text=f"\n[gradekit: {text}]\n"))

    # -- the kernel's end ----------------------------------------------------------------
    async def _async_cleanup_kernel(self) -> None:
        """Stop the kernel, then the relay and the sockets' context (idempotent)."""
        try:
            if self.km is not None:
                await super()._async_cleanup_kernel()
        finally:
            self.relay.close()
            if not self.zmq_context.closed:
                self.zmq_context.destroy(linger=0)

    _cleanup_kernel = run_sync(_async_cleanup_kernel)


def _error_chars(error: dict[str, Any]) -> int:
    return len(error["ename"]) + len(error["evalue"]) + sum(map(len, error["traceback"]))


def _stored(value: object) -> int:
    """An upper bound of the bytes ``value`` takes in the saved notebook: its JSON (escapes
    count in full), plus the indent nbformat gives each line of text and each item."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        return MAX_NOTEBOOK_STORED + 1  # never stored
    return len(text) + LINE_OVERHEAD * (text.count("\\n") + text.count(", "))


def _shrink(build: Callable[[int], Any], chars: int, room: int, floor: int) -> tuple[Any, int]:
    """``build(n)`` for the largest ``n <= chars`` (found by proportional steps) that stores
    within ``room`` bytes, but never below ``floor``; with its stored size."""
    while True:
        value = build(chars)
        cost = _stored(value)
        if cost <= room or chars <= floor:
            return value, cost
        chars = max(floor, chars * max(room, 0) // cost)
