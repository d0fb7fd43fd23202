"""The compose `replicas` front, deploy/nginx/replicas.conf, run by a real nginx.

Its two upstreams are pointed at two small HTTP servers on loopback that say who they
are. Requests with one X-Foresight-Conversation go to one replica; different
conversations use both; when a replica is down, its conversations move to the other.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from live_server import free_port

CONF = Path(__file__).parents[2] / "deploy" / "nginx" / "replicas.conf"


class _Named(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _replica(name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Named)
    server.name = name  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture()
def front(tmp_path: Path) -> Iterator[tuple[str, dict[str, ThreadingHTTPServer]]]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx missing: scripts/ensure-system-packages.sh installs it"
    replicas = {"a": _replica("a"), "b": _replica("b")}
    port = free_port()
    conf = CONF.read_text().replace("listen 8000;", f"listen 127.0.0.1:{port};")
    for name, server in replicas.items():
        conf = conf.replace(f"foresight-{name}:8000", f"127.0.0.1:{server.server_address[1]}")
    (tmp_path / "replicas.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n client_body_temp_path {tmp_path};\n"
        f" proxy_temp_path {tmp_path};\n include {tmp_path}/replicas.conf;\n}}\n"
    )
    args = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([*args, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                httpx.get(url, timeout=1)
                break
            time.sleep(0.05)
        yield url, replicas
    finally:
        process.terminate()
        process.wait(timeout=10)
        for server in replicas.values():
            server.shutdown()
            server.server_close()


def _served(url: str, conversation: str | None) -> str:
    headers = {"X-Foresight-Conversation": conversation} if conversation else {}
    return httpx.get(f"{url}/v1/models", headers=headers, timeout=10).text


def test_a_conversation_stays_on_one_replica(
    front: tuple[str, dict[str, ThreadingHTTPServer]],
) -> None:
    url, _ = front
    for conversation in ("conv-1", "conv-2", "conv-3"):
        assert len({_served(url, conversation) for _ in range(6)}) == 1
    spread = {_served(url, f"conv-{i}") for i in range(40)}
    assert spread == {"a", "b"}
    assert len({_served(url, None) for _ in range(6)}) == 1  # by client address


def test_a_dead_replicas_conversations_move(
    front: tuple[str, dict[str, ThreadingHTTPServer]],
) -> None:
    url, replicas = front
    on_a = next(c for c in (f"conv-{i}" for i in range(100)) if _served(url, c) == "a")
    replicas["a"].shutdown()
    replicas["a"].server_close()
    assert [_served(url, on_a) for _ in range(3)] == ["b", "b", "b"]
