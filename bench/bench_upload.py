"""Uploads on a real API process: a 1 GB body refused past the 50 MB limit with bounded memory,
and an accepted 50 MB document (time, the server's resident memory).

The API runs as ``accelerator serve`` on a fresh SQLite database (demo settings, local store
in a temporary directory); the client streams the multipart body over a raw socket in chunked
transfer encoding (no declared length, so the server must count) and stops sending as soon as
an answer arrives. The server's memory is read from /proc (VmRSS, VmHWM).

    .venv/bin/python bench/bench_upload.py [--gigabytes 1]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, command_line, machine, machine_line, update_section

MB = 1 << 20
CHUNK = 64 * 1024


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of ``pid`` in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(port: int, method: str, path: str, body: bytes, headers: dict[str, str]) -> dict:
    """One small JSON request with the standard library (no client library's overhead)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    return {"status": answer.status, "body": json.loads(data) if data else None}


def read_answer(connection: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        more = connection.recv(65536)
        if not more:
            break
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    return status, rest


def stream_upload(port: int, path: str, token: str, size: int) -> dict[str, float]:
    """Send a chunked multipart body of ``size`` file bytes; stop at the first answer."""
    boundary = "benchboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="grand.txt"\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def framed(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    payload = framed(b"x" * CHUNK)
    started = time.perf_counter()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=120) as connection:
        connection.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
            + framed(head)
        )
        connection.setblocking(False)
        pending = b""
        answered = False
        while sent < size:
            if not pending:
                pending, sent = payload, sent + CHUNK
            try:
                pending = pending[connection.send(pending) :]
            except BlockingIOError:
                time.sleep(0.0005)
            except (BrokenPipeError, ConnectionResetError):
                answered = True
                break
            try:
                if connection.recv(1, socket.MSG_PEEK):
                    answered = True
                    break
            except BlockingIOError:
                pass
        connection.settimeout(120)
        if not answered:
            connection.sendall(pending + framed(tail) + b"0\r\n\r\n")
        status, _ = read_answer(connection)
    return {"status": status, "sent": sent, "seconds": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--accepted-megabytes", type=int, default=49)
    args = parser.parse_args()
    info = machine()
    work = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACCELERATOR_", "PREFECT_"))}
    env.update(
        ACCELERATOR_DEMO="1",
        ACCELERATOR_VAR_DIR=str(work),
        ACCELERATOR_DATABASE_URL=f"sqlite:///{work / 'bench.db'}",
        ACCELERATOR_UPLOAD_STAGING_DIR=str(work),
        ACCELERATOR_LOG_FORMAT="json",
    )
    cli = [sys.executable, "-m", "cli.main"]

    def run(*argv: str, stdin: str | None = None) -> None:
        subprocess.run([*cli, *argv], cwd=ROOT, env=env, input=stdin, text=True, check=True,
                       capture_output=True)  # fmt: skip

    run("db", "upgrade")
    run("catalogue", "load")
    run("users", "create", "--email", "holder@bench.test", "--role", "holder",
        "--organisation", "Banc d'essai", "--password-stdin", stdin="bench-password\n")  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                if request(port, "GET", "/healthz", b"", {})["status"] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        token = request(
            port, "POST", "/api/v1/auth/token",
            json.dumps({"email": "holder@bench.test", "password": "bench-password"}).encode(),
            {"Content-Type": "application/json"},
        )["body"]["access_token"]  # fmt: skip
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        draft = request(
            port, "POST", "/api/v1/dossiers",
            json.dumps({"title": "Banc d'essai", "commune_insee": "65138",
                        "procedures": ["PC"], "attributes": {}}).encode(), auth,
        )["body"]  # fmt: skip
        path = f"/api/v1/dossiers/{draft['id']}/documents"
        before = memory(server.pid)
        refused = stream_upload(port, path, token, int(args.gigabytes * 1024 * MB))
        after_refused = memory(server.pid)
        accepted = stream_upload(port, path, token, args.accepted_megabytes * MB)
        after_accepted = memory(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    leftovers = [p.name for p in work.iterdir() if p.name.startswith("upload-")]
    rows = [
        f"| {args.gigabytes:g} GB streamed, limit 50 MB | {refused['status']} | "
        f"{refused['sent'] / MB:.1f} MB | {refused['seconds']:.2f} | "
        f"{before['VmRSS'] / MB:.0f} → {after_refused['VmRSS'] / MB:.0f} MB | "
        f"{after_refused['VmHWM'] / MB:.0f} MB |",
        f"| {args.accepted_megabytes} MB text accepted | {accepted['status']} | "
        f"{accepted['sent'] / MB:.1f} MB | {accepted['seconds']:.2f} | "
        f"{after_refused['VmRSS'] / MB:.0f} → {after_accepted['VmRSS'] / MB:.0f} MB | "
        f"{after_accepted['VmHWM'] / MB:.0f} MB |",
    ]
    body = "\n".join(
        [
            "## Uploads (`bench/bench_upload.py`)",
            "",
            f"Command: `{command_line()}`",
            "",
            machine_line(info),
            "",
            "One `accelerator serve` process (SQLite, local store); a chunked multipart body "
            "over a raw socket (no length declared: the server counts), the client stopping at "
            "the first answer. Memory: the API process' resident set (VmRSS) and its peak "
            "(VmHWM).",
            "",
            "| upload | status | sent before the answer | seconds | server RSS | server peak |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"Temporary files left: {len(leftovers)}. The refused upload is cut at the chunk "
            "that crosses the limit: what the client sent past it is what the sockets' "
            "buffers held when the answer came.",
        ]
    )
    print(body)
    assert refused["status"] == 413 and accepted["status"] == 201, (refused, accepted)
    update_section("uploads", body)


if __name__ == "__main__":
    main()
