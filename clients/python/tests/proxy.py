"""Test helper: a loopback TCP proxy in front of the real server that counts the bytes clients
send, keeps what they sent, and can cut the first N connections (optionally only those whose
request starts with ``drop_method``) right after the server has answered: the answer is lost
on the way back, as when a network drops mid-request."""

import socket
import threading


class Proxy:
    """Listens on 127.0.0.1 (``url``) and forwards every connection to ``upstream``."""

    def __init__(self, upstream_url: str, drop_answers: int = 0, drop_method: bytes = b"") -> None:
        host_port = upstream_url.split("//", 1)[1].rstrip("/")
        host, port = host_port.rsplit(":", 1)
        self._upstream: tuple[str, int] = (host, int(port))
        self._drop = drop_answers
        self._drop_method = drop_method
        self._lock = threading.Lock()
        #: Bytes clients sent, per connection, in order.
        self.requests: list[bytearray] = []
        self.bytes_up = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                sent = bytearray()
                self.requests.append(sent)
            threading.Thread(target=self._serve, args=(client, sent), daemon=True).start()

    def _should_drop(self, sent: bytearray) -> bool:
        """Decided when the answer arrives: drop it if the request matches and drops are left."""
        with self._lock:
            drop = self._drop > 0 and bytes(sent).startswith(self._drop_method)
            self._drop -= 1 if drop else 0
            return drop

    def _serve(self, client: socket.socket, sent: bytearray) -> None:
        upstream = socket.create_connection(self._upstream)

        def up() -> None:
            try:
                while True:
                    data = client.recv(65536)
                    if not data:
                        break
                    with self._lock:
                        sent.extend(data)
                        self.bytes_up += len(data)
                    upstream.sendall(data)
                upstream.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        threading.Thread(target=up, daemon=True).start()
        drop = None
        try:
            while True:
                data = upstream.recv(65536)
                if drop is None:
                    drop = self._should_drop(sent)
                if not data or drop:
                    # drop: the server answered, but the answer never reaches the client.
                    break
                client.sendall(data)
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        """Stops accepting connections."""
        self._listener.close()
