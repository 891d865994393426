"""A JSON-RPC 1.0 client of net/rpc/jsonrpc, on Python 3's standard library
alone: three calls of Service.Method on one connection, printing the first
call's error, the second call's result and how long it took, and whether
the third found its connection dropped."""
import json
import socket
import sys
import time

host, port = sys.argv[1].rsplit(":", 1)
with socket.create_connection((host, int(port)), timeout=10) as s:
    f = s.makefile("rw")

    def call(i):
        f.write(json.dumps({"method": "Service.Method", "params": [{"Name": "Py"}], "id": i}) + "\n")
        f.flush()
        line = f.readline()
        return json.loads(line) if line else None

    r = call(1)
    print("error:", r["error"])
    start = time.monotonic()
    r = call(2)
    took = (time.monotonic() - start) * 1000
    print("result:", r["result"]["Message"])
    print("took %.1f ms" % took)
    print("third call:", "dropped" if call(3) is None else "answered")
