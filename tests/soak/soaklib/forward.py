# SPDX-License-Identifier: Apache-2.0
"""A loopback TCP forwarder between httpd and the AuthKit emulator, so that
WorkOS can become unreachable and come back on the same port while the
emulator keeps its state (signing key, sessions, refresh tokens): stopping
the emulator itself would forget every refresh token, and sessions could not
recover afterwards."""
import socket
import threading


class Forwarder:
    """127.0.0.1:port -> 127.0.0.1:target. down() stops listening (connects are
    refused) and cuts the open connections; up() listens again on the same port."""

    def __init__(self, target_port):
        self.target = target_port
        self.lock = threading.Lock()
        self.open = set()
        self.listener = None
        self.port = 0
        self.accepted = 0
        self.up()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def up(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(256)
        self.port = s.getsockname()[1]
        self.listener = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def down(self):
        s, self.listener = self.listener, None
        if s is None:
            return
        try:
            s.shutdown(socket.SHUT_RDWR)   # wakes the thread blocked in accept()
        except OSError:
            pass
        s.close()
        with self.lock:
            conns, self.open = list(self.open), set()
        for c in conns:
            self._close(c)

    def is_up(self):
        return self.listener is not None

    def close(self):
        self.down()

    @staticmethod
    def _close(sock):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return                       # down()
            try:
                server = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                server.settimeout(None)
            except OSError:
                self._close(client)
                continue
            with self.lock:
                if listener is not self.listener:
                    self._close(client)
                    self._close(server)
                    return
                self.open.update((client, server))
                self.accepted += 1
            pair = {"left": 2}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b, pair), daemon=True).start()

    def _pump(self, src, dst, pair):
        """Copy src to dst until EOF; the second pump to finish closes both."""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self.lock:
            pair["left"] -= 1
            last = pair["left"] == 0
            if last:
                self.open.discard(src)
                self.open.discard(dst)
        if last:
            src.close()
            dst.close()
