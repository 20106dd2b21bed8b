# SPDX-License-Identifier: Apache-2.0
"""A loopback WebSocket backend for the mod_proxy_wstunnel tests: answers the
Upgrade request with 101, then sends one text message (the JSON of the
request line and headers it received) and echoes one message back; plus a
minimal client that speaks the handshake over a raw socket."""
import base64
import hashlib
import json
import os
import socket
import struct
import threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def read_head(sock):
    """Bytes up to the blank line, and whatever came after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def parse_head(head):
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append([name.strip(), value.strip()])
    return lines[0], headers


def frame(payload, mask=False):
    """One unfragmented text frame."""
    n = len(payload)
    head = bytes([0x81])
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mbit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def read_frame(sock, buf=b""):
    """(payload, rest of the buffer) of one frame, unmasking when masked."""
    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed mid-frame")
            buf += chunk
    need(2)
    masked, n = buf[1] & 0x80, buf[1] & 0x7F
    pos = 2
    if n == 126:
        need(4)
        n, pos = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        need(10)
        n, pos = struct.unpack("!Q", buf[2:10])[0], 10
    key = b""
    if masked:
        need(pos + 4)
        key, pos = buf[pos:pos + 4], pos + 4
    need(pos + n)
    payload, rest = buf[pos:pos + n], buf[pos + n:]
    if masked:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return payload, rest


class WsBackend:
    """Runs on 127.0.0.1:<free port> in daemon threads until stop()."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}"
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        with conn:
            conn.settimeout(30)
            try:
                head, rest = read_head(conn)
                line, headers = parse_head(head)
                key = next((v for k, v in headers if k.lower() == "sec-websocket-key"), "")
                conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\n"
                              f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n").encode())
                conn.sendall(frame(json.dumps({"line": line, "headers": headers}).encode()))
                payload, _ = read_frame(conn, rest)
                conn.sendall(frame(b"echo:" + payload))
            except (OSError, ConnectionError):
                pass

    def stop(self):
        self.running = False
        self.sock.close()


def ws_connect(port, path, headers):
    """The client side: (status line, [(name, value)], socket, buffered bytes)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13",
             *[f"{k}: {v}" for k, v in headers.items()]]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head, rest = read_head(sock)
    status, got = parse_head(head)
    return status, got, sock, rest, key
