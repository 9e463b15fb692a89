"""A kernel that floods the grader with each type of message it can send: the run goes on,
the executed notebook stays within its budget, and the grader's memory stays bounded.

Each flood sends about 200 MB through the kernel's own session, the way a hostile cell can;
the test prints how far the grader's peak resident memory rose meanwhile.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import zmq
from notebook_helpers import NAME

from gradekit.notebooks.client import MAX_CELL_STORED, MAX_NOTEBOOK_STORED
from gradekit.notebooks.relay import (
    MAX_FRAMES,
    MAX_MESSAGE,
    FrameCounter,
    MessageRelay,
    OversizeError,
)

MB = 1 << 20
#: Rise of the grader's peak memory a flood of 40 messages of 5 MB may cause: a few messages
#: in flight, decoded; never what the kernel sent in all.
PEAK_BUDGET = 100 * MB

SEND = """\
kernel = get_ipython().kernel
big = 'x' * (5 << 20)

def send(msg_type, content, times=40, buffers=None):
    for _ in range(times):
        kernel.session.send(kernel.iopub_socket, msg_type, content,
                            parent=kernel.get_parent(), buffers=buffers)
"""

FLOODS = {
    "stream": "send('stream', {'name': 'stdout', 'text': big})",
    "error": "send('error', {'ename': 'E', 'evalue': big, 'traceback': [big[:1 << 20]] * 2})",
    "display_data": "send('display_data', {'data': {'text/plain': big}, 'metadata': {}})",
    "execute_result": "send('execute_result', {'data': {'text/html': big}, 'metadata': {},"
                      " 'execution_count': 1})",
    "update_display_data": "send('display_data', {'data': {'text/plain': 'small'}, "
                           "'metadata': {}, 'transient': {'display_id': 'd'}}, times=1)\n"
                           "send('update_display_data', {'data': {'text/plain': big}, "
                           "'metadata': {}, 'transient': {'display_id': 'd'}})",
    "clear_output": "for _ in range(200):\n"
                    "    send('display_data', {'data': {'text/plain': big[:1 << 20]},"
                    " 'metadata': {}}, times=1)\n"
                    "    send('clear_output', {'wait': True}, times=1)",
    "comm": "send('comm_open', {'comm_id': 'c', 'target_name': 't', 'data': {'x': big}}, 1)\n"
            "send('comm_msg', {'comm_id': 'c', 'data': {'x': big}})",
    "unknown": "send('anything', {'data': big})",
    "malformed": "send('error', {'ename': 1, 'evalue': big, 'traceback': 'not a list'})",
    "oversize": f"send('stream', {{'name': 'stdout', 'text': 'x' * {MAX_MESSAGE + MB}}}, times=5)",
    "many frames": f"send('stream', {{'name': 'stdout', 'text': 'x'}}, times=2, "
                   f"buffers=[big[:1 << 20].encode()] * {4 * MAX_FRAMES})",
}


def _peak_rss() -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines()
                    if line.startswith("VmHWM:"))) << 10


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(FLOODS))
def test_a_flood_of_each_message_type_leaves_the_grader_bounded(make_run, kind: str,
                                                                tmp_path: Path) -> None:
    run = make_run(SEND, FLOODS[kind], "print('after')", cell_timeout=60, timeout=120)
    _reset_peak()
    before = _peak_rss()
    run.execute()
    rise = _peak_rss() - before
    print(f"\n{kind}: the kernel sent about 200 MB; the grader's peak memory rose "
          f"{rise / MB:.0f} MB")
    cells = run.notebook.cells
    assert run.cells_run == 3, run.message
    assert [o.get("text") for o in cells[2].outputs] == ["after\n"]
    assert rise < PEAK_BUDGET
    flooded = len(json.dumps(cells[1]))
    assert flooded <= MAX_CELL_STORED + 4096
    run.write_executed(tmp_path / NAME)
    assert (tmp_path / NAME).stat().st_size <= MAX_NOTEBOOK_STORED + 64 * 1024


def test_an_error_flood_keeps_the_first_error_and_says_where_it_was_cut(make_run) -> None:
    run = make_run(SEND, "send('error', {'ename': 'FirstError', 'evalue': big, "
                   "'traceback': []}, times=3)\nraise ValueError('the real one')")
    run.execute()
    outputs = run.notebook.cells[1].outputs
    errors = [o for o in outputs if o.output_type == "error"]
    assert errors[0].ename == "FirstError" and 1000 <= len(errors[0].evalue) < MB
    notes = [o.text for o in outputs if o.output_type == "stream"]
    assert any("output cut here" in note for note in notes)
    [failure] = run.report().failed_cells
    assert failure.index == 1 and len(failure.error) <= 501


def test_an_oversize_message_is_cut_and_the_cell_says_so(make_run) -> None:
    run = make_run(SEND, f"send('stream', {{'name': 'stdout', 'text': 'x' * {MAX_MESSAGE}}}, 1)",
                   "print('after')")
    run.execute()
    text = "".join(o.get("text", "") for o in run.notebook.cells[1].outputs)
    assert "output lost here; the kernel sent a message of" in text
    assert "".join(o.get("text", "") for o in run.notebook.cells[2].outputs) == "after\n"


def test_input_raises_in_a_grading_kernel(make_run) -> None:
    run = make_run("name = input('your name? ')", "print('after')")
    run.execute()
    [failure] = run.report().failed_cells
    assert failure.error.startswith("StdinNotImplementedError")
    assert run.notebook.cells[1].outputs[0]["text"] == "after\n"


# -- the relay on its own ------------------------------------------------------------------
def _frame(body: bytes, more: bool) -> bytes:
    flags = int(more) | (2 if len(body) > 255 else 0)
    size = len(body).to_bytes(8 if len(body) > 255 else 1, "big")
    return bytes([flags]) + size + body


GREETING = b"\xff" + bytes(8) + b"\x7f" + bytes([3, 0]) + b"NULL" + bytes(16) + bytes(32)


def test_the_frame_counter_passes_messages_within_the_limits_byte_by_byte() -> None:
    counter = FrameCounter(max_message=1000, max_frames=3)
    stream = GREETING + _frame(b"a" * 300, True) + _frame(b"b" * 600, False) + \
        _frame(b"c" * 999, False)
    passed = b"".join(counter.feed(stream[i:i + 1]) for i in range(len(stream)))
    assert passed == stream


@pytest.mark.parametrize(("frames", "reason"), [
    ([b"a" * 600, b"b" * 600], "size"),
    ([b"a"] * 4, "frames"),
])
def test_the_frame_counter_stops_before_the_header_that_goes_over(frames: list[bytes],
                                                                   reason: str) -> None:
    counter = FrameCounter(max_message=1000, max_frames=3)
    message = b"".join(_frame(body, i < len(frames) - 1) for i, body in enumerate(frames))
    passed = counter.feed(GREETING)
    with pytest.raises(OversizeError) as over:
        for i in range(len(message)):
            passed += counter.feed(message[i:i + 1])
    assert over.value.reason == reason
    assert len(passed) < len(GREETING) + len(message) - len(frames[-1])  # last header held


def test_the_frame_counter_refuses_what_is_not_zmtp3() -> None:
    with pytest.raises(OversizeError) as over:
        FrameCounter().feed(b"GET / HTTP/1.1\r\n")
    assert over.value.reason == "protocol"


def test_the_relay_carries_messages_and_cuts_an_oversize_one(tmp_path: Path) -> None:
    asyncio.run(_relay_scenario(f"ipc://{tmp_path / 'iopub'}"))


async def _relay_scenario(url: str) -> None:
    relay = MessageRelay(max_message=64 * 1024, max_frames=8)
    kernel_context = zmq.Context()
    context = relay.context()
    pub = kernel_context.socket(zmq.PUB)
    pub.bind(url)
    sub = context.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(url)

    async def arrives(parts: list[bytes]) -> list[bytes] | None:
        for _ in range(100):  # a subscription takes a moment to reach the publisher
            pub.send_multipart(parts)
            if await sub.poll(100):
                return await sub.recv_multipart()
        return None

    try:
        assert await arrives([b"small", b"message"]) == [b"small", b"message"]
        while await sub.poll(100):  # what the retries sent
            await sub.recv_multipart()
        pub.send_multipart([b"x" * (128 * 1024)])
        for _ in range(100):
            if relay.cuts:
                break
            assert not await sub.poll(100)  # the oversize message never arrives
        assert [cut.reason for cut in relay.cuts] == ["size"]
        assert await arrives([b"after", b"the cut"]) == [b"after", b"the cut"]  # reconnected
    finally:
        sub.close(linger=0)
        pub.close(linger=0)
        context.destroy(linger=0)
        kernel_context.destroy(linger=0)
        relay.close()
