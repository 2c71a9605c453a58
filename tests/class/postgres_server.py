"""A throwaway PostgreSQL server for the tests: Debian's `postgresql` binaries, a cluster in a
temporary directory, listening on 127.0.0.1 on a free port, stopped and deleted at the end.
As root, the server runs as the `postgres` user (`runuser -u postgres --`), as PostgreSQL
refuses to run as root."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile


def pg_bin() -> str | None:
    """Directory of initdb / pg_ctl (Debian keeps them in /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    which = shutil.which("pg_ctl")
    return os.path.dirname(which) if which else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_server():
    """Yields a function ``url(database)`` giving a ``postgresql+psycopg2://`` URL of a new
    database on the running server."""
    import psycopg2

    bindir = pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = tempfile.mkdtemp(prefix="pg-test-")
    data, log = os.path.join(base, "data"), os.path.join(base, "server.log")
    if as_postgres:
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    try:
        subprocess.run([*as_postgres, f"{bindir}/initdb", "-D", data, "-U", "postgres",
                        "--auth=trust", "--no-sync", "-E", "UTF8"],
                       check=True, capture_output=True, text=True, timeout=300)
        subprocess.run([*as_postgres, f"{bindir}/pg_ctl", "-D", data, "-l", log, "-w", "-t", "120",
                        "-o", f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "start"], check=True, capture_output=True, text=True, timeout=180)
        made = []

        def url(database: str) -> str:
            with contextlib.closing(psycopg2.connect(host="127.0.0.1", port=port,
                                                     user="postgres", dbname="postgres")) as conn:
                conn.autocommit = True
                conn.cursor().execute(f'CREATE DATABASE "{database}"')
            made.append(database)
            return f"postgresql+psycopg2://postgres@127.0.0.1:{port}/{database}"

        yield url
    finally:
        subprocess.run([*as_postgres, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w",
                        "stop"], capture_output=True, timeout=120)
        shutil.rmtree(base, ignore_errors=True)
