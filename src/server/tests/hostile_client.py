#!/usr/bin/env python3
"""Raw-socket clients for hostile-clients.sh: things curl will not do on purpose.

Each subcommand attacks a running noreboot-server on 127.0.0.1 and prints what it saw; the
shell script decides pass or fail. Standard library only.

  abandon PORT CRED N          N long polls (?wait=300) whose client hangs up at once
  replaced PORT CRED           two long polls of one host: prints the older one's status line
                               and body once the newer one is parked
  stalled PORT [TOKEN]         an upload that sends its headers and 10 bytes, then stalls;
                               prints the status line (or "none" after 20 s)
  flood PORT N MIB             N parallel token-less uploads of MIB MiB each; prints statuses
  hold PORT TOKEN N            N admin uploads that stall, then one more; prints the extra
                               one's status line and whether it has Retry-After
  head PORT PATH [TOKEN]       HEAD PATH then GET PATH on one connection; prints the HEAD's
                               Content-Length, the GET's, and whether a body followed the HEAD
  junk PORT N                  N requests to made-up paths on one keep-alive connection
  idle PORT N SECONDS          opens N connections, holds them SECONDS, closes them
  form PORT PATH CREDENTIAL    what another site's <form enctype="text/plain"> sends: a POST
                               of JSON-looking text as text/plain; CREDENTIAL is "Bearer
                               nra_..." or "Cookie nr_session=..."; prints the status line and body
"""
import json
import random
import socket
import sys
import threading
import time

KERNEL = {"release": "6.1.0-56-amd64", "version": "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1",
          "build_id": "00112233445566778899aabbccddeeff00112233", "arch": "x86_64"}
CHECKIN = json.dumps({"kernel": KERNEL, "applied": None, "state": "idle", "agent_version": "hostile"})


def connect(port, timeout=30):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def request(method, path, body=b"", headers=None, content_length=None):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body or content_length is not None or method == "POST":
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def read_response(sock, head=False):
    """Reads one response: (status line, headers dict, body). Raises on timeout/EOF."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed before a full header: %r" % data[:200])
        data += chunk
    header, rest = data.split(b"\r\n\r\n", 1)
    lines = header.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = 0 if head else int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines[0], headers, rest[:n], rest[n:]


def abandon(port, cred, n):
    for _ in range(int(n)):
        s = connect(port)
        s.sendall(request("POST", "/v1/checkin?wait=300", CHECKIN.encode(),
                          {"Authorization": "Bearer " + cred, "Content-Type": "application/json"}))
        s.close()
    print("sent", n)


def replaced(port, cred):
    hdr = {"Authorization": "Bearer " + cred, "Content-Type": "application/json"}
    old = connect(port, timeout=60)
    old.sendall(request("POST", "/v1/checkin?wait=120", CHECKIN.encode(), hdr))
    time.sleep(2)  # let the first one park
    new = connect(port, timeout=60)
    new.sendall(request("POST", "/v1/checkin?wait=120", CHECKIN.encode(), hdr))
    old.settimeout(30)
    try:
        status, _, body, _ = read_response(old)
        print(status)
        print(body.decode())
    except (socket.timeout, EOFError) as e:
        print("none", e)
    new.close()
    old.close()


def stalled(port, token=None):
    s = connect(port)
    hdr = {"Content-Type": "application/octet-stream"}
    if token:
        hdr["Authorization"] = "Bearer " + token
    s.sendall(request("POST", "/v1/bundles", b"0123456789", hdr, content_length=10_000_000))
    s.settimeout(20)
    try:
        print(read_response(s)[0])
    except (socket.timeout, EOFError, ConnectionError):
        print("none")
    s.close()


def flood(port, n, mib):
    results = []
    chunk = b"\0" * (1 << 20)

    def one():
        try:
            s = connect(port, timeout=60)
            s.sendall(request("POST", "/v1/bundles", b"", {"Content-Type": "application/octet-stream"},
                              content_length=int(mib) << 20))
            try:
                for _ in range(int(mib)):
                    s.sendall(chunk)
            except OSError:
                pass  # answered and closed early: that is the point
            try:
                results.append(read_response(s)[0])
            except (OSError, EOFError) as e:
                results.append("no answer: %s" % e)
            s.close()
        except OSError as e:
            results.append("error: %s" % e)

    threads = [threading.Thread(target=one) for _ in range(int(n))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        print(r)


def hold(port, token, n):
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/octet-stream"}
    held = []
    for _ in range(int(n)):
        s = connect(port)
        s.sendall(request("POST", "/v1/bundles", b"0123456789", hdr, content_length=10_000_000))
        held.append(s)
    time.sleep(1)  # the server has read their headers
    extra = connect(port)
    extra.sendall(request("POST", "/v1/bundles", b"0123456789", hdr, content_length=10_000_000))
    extra.settimeout(20)
    try:
        status, headers, _, _ = read_response(extra)
        print(status)
        print("retry-after" if "retry-after" in headers else "no retry-after")
    except (socket.timeout, EOFError, ConnectionError):
        print("none")
    for s in held + [extra]:
        s.close()


def head(port, path, token=None):
    hdr = {"Authorization": "Bearer " + token} if token else {}
    s = connect(port)
    s.sendall(request("HEAD", path, b"", hdr) + request("GET", path, b"", dict(hdr, Connection="close")))
    status, headers, _, rest = read_response(s, head=True)
    # After a HEAD answer the next bytes must be the GET's status line, not a body.
    while len(rest) < 5:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    followed = "body-after-head" if not rest.startswith(b"HTTP/") else "clean"
    s2 = connect(port)
    s2.sendall(request("GET", path, b"", dict(hdr, Connection="close")))
    _, get_headers, _, _ = read_response(s2)
    print(status.split(" ")[1], headers.get("content-length", "none"), get_headers.get("content-length", "none"),
          followed)


def junk(port, n):
    s = connect(port)
    rnd = random.Random(17)
    for i in range(int(n)):
        word = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))
        path = ["/junk%s" % word, "/v1/%s" % word, "/v1/hosts/%s/%s" % (word, word), "/%s/x" % word][i % 4]
        s.sendall(request("GET", path))
        read_response(s)
    s.close()
    print("sent", n)


def idle(port, n, seconds):
    socks = []
    for _ in range(int(n)):
        try:
            socks.append(connect(port, timeout=10))
        except OSError:
            break
    print("open", len(socks), flush=True)
    time.sleep(float(seconds))
    for s in socks:
        s.close()


def form(port, path, credential):
    kind, _, value = credential.partition(" ")
    hdr = {"Content-Type": "text/plain", "Origin": "http://evil.example"}
    hdr["Authorization" if kind == "Bearer" else "Cookie"] = credential if kind == "Bearer" else value
    # A text/plain form field named '{"group":"web","until":4102444800,"x":"' with value '"}'.
    body = b'{"group":"web","until":4102444800,"x":"="}'
    s = connect(port)
    s.sendall(request("POST", path, body, dict(hdr, Connection="close")))
    status, _, answer, _ = read_response(s)
    print(status)
    print(answer.decode())
    s.close()


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    globals()[cmd](int(args[0]), *args[1:])
