"""Forges a reply on the worker's private pipe claiming a 10 GB array, then stalls."""

import json
import os
import sys
import time

import msgpack

from gradekit.sandbox.codec import EXT_ARRAY, HEADER


def run():
    reply_fd = json.loads(sys.argv[1])["response_fd"]
    claim = msgpack.ExtType(EXT_ARRAY, msgpack.packb(["<f8", [1_250_000_000], False]))
    meta = msgpack.packb({"ok": True, "value": claim, "id": 0})
    os.write(reply_fd, HEADER.pack(len(meta), 64) + meta + bytes(64))
    time.sleep(30)
