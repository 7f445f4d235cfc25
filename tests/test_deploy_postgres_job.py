"""deploy/postgres/create-threadwork-db.sh, the compose job behind THREADWORK_DATABASE_URL, on a real PostgreSQL.

The compose file runs it on every start with the PostgreSQL superuser's credentials. Here it
runs the same way (``/bin/sh``, PG* variables, psql) against Debian's PostgreSQL started in a
temporary folder with password authentication, so what it creates is checked by logging in.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stack import free_port

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "deploy" / "postgres" / "create-threadwork-db.sh"
SUPERUSER, SUPERUSER_PASSWORD = "temporal", "superuser-pw-1"
TIMEOUT = 60


def bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run ./scripts/test once (it installs Debian's postgresql)")
    return Path(found[-1]).parent


def as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Path, int]]:
    """A PostgreSQL that asks every client for its password (scram-sha-256), as the image does."""
    pg = bin_dir()
    root = Path(tempfile.mkdtemp(prefix="threadwork-deploy-pg-"))
    port = free_port()
    pwfile = root / "pw"
    pwfile.write_text(SUPERUSER_PASSWORD + "\n")
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        for path in (root, pwfile):
            os.chown(path, user.pw_uid, user.pw_gid)
    try:
        subprocess.run(
            as_server_user(
                [
                    str(pg / "initdb"),
                    "-D",
                    str(root / "data"),
                    "-U",
                    SUPERUSER,
                    "-A",
                    "scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            as_server_user(
                [
                    str(pg / "pg_ctl"),
                    "-D",
                    str(root / "data"),
                    "-l",
                    str(root / "log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    str(TIMEOUT),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=TIMEOUT + 10,
        )
        yield pg, port
    finally:
        subprocess.run(
            as_server_user([str(pg / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
            timeout=TIMEOUT,
        )
        shutil.rmtree(root, ignore_errors=True)


def run_job(
    port: int, db_password: str, superuser_password: str = SUPERUSER_PASSWORD
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"] + f":{bin_dir()}",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(port),
        "PGUSER": SUPERUSER,
        "PGPASSWORD": superuser_password,
        "THREADWORK_DB_PASSWORD": db_password,
    }
    return subprocess.run(["/bin/sh", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=TIMEOUT)


def psql_as_threadwork(pg: Path, port: int, password: str, sql: str) -> subprocess.CompletedProcess[str]:
    env = {"PGPASSWORD": password, "PATH": os.environ["PATH"]}
    return subprocess.run(
        [
            str(pg / "psql"),
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "threadwork",
            "-d",
            "threadwork",
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_the_job_creates_a_role_that_owns_only_its_database_and_runs_again_safely(server):
    pg, port = server
    password = "first-pw-0123456789abcdef"
    first = run_job(port, password)
    assert first.returncode == 0, first.stderr
    assert "database threadwork ready" in first.stdout

    created = psql_as_threadwork(
        pg,
        port,
        password,
        "CREATE TABLE t (x int); SELECT current_user, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1] == "threadwork|f|f"  # owns its database, nothing more

    again = run_job(port, password)  # every `docker compose up` runs it
    assert again.returncode == 0, again.stderr
    kept = psql_as_threadwork(pg, port, password, "SELECT count(*) FROM t")
    assert kept.stdout.strip() == "0", kept.stderr  # the database and its tables are kept


def test_changing_the_password_in_env_rotates_it(server):
    pg, port = server
    assert run_job(port, "first-pw-0123456789abcdef").returncode == 0
    rotated = "it's-\\-new;pw"  # SQL metacharacters arrive as data through psql's :'variable'
    result = run_job(port, rotated)
    assert result.returncode == 0, result.stderr
    assert psql_as_threadwork(pg, port, rotated, "SELECT 1").stdout.strip() == "1"
    old = psql_as_threadwork(pg, port, "first-pw-0123456789abcdef", "SELECT 1")
    assert old.returncode != 0 and "password authentication failed" in old.stderr


def test_a_missing_or_wrong_secret_stops_the_job_with_its_reason(server):
    _pg, port = server
    missing = run_job(port, "")
    assert missing.returncode != 0
    assert "THREADWORK_DB_PASSWORD" in missing.stderr
    wrong = run_job(port, "some-pw", superuser_password="not-the-superuser-password")
    assert wrong.returncode != 0
    assert "password authentication failed" in wrong.stderr


def superuser(pg: Path, port: int, tool: str, *args: str, stdin=None) -> subprocess.CompletedProcess:
    env = {"PGPASSWORD": SUPERUSER_PASSWORD, "PATH": os.environ["PATH"]}
    return subprocess.run(
        [str(pg / tool), "-h", "127.0.0.1", "-p", str(port), "-U", SUPERUSER, *args],
        env=env,
        stdin=stdin,
        capture_output=True,
        timeout=TIMEOUT,
    )


def test_the_documented_restore_gives_the_threadwork_role_its_tables_back(server, tmp_path):
    """docs/deployment.md, Backups: dump, then restore into the database the job creates on a fresh stack."""
    pg, port = server
    password = "restore-pw-0123456789"
    assert run_job(port, password).returncode == 0
    assert (
        psql_as_threadwork(pg, port, password, "CREATE TABLE notes (x int); INSERT INTO notes VALUES (7)").returncode
        == 0
    )
    dump = tmp_path / "threadwork.dump"
    with dump.open("wb") as out:
        dumped = superuser(pg, port, "pg_dump", "-Fc", "threadwork")
        assert dumped.returncode == 0, dumped.stderr
        out.write(dumped.stdout)

    assert superuser(pg, port, "dropdb", "threadwork").returncode == 0  # the fresh stack has none
    assert run_job(port, password).returncode == 0
    with dump.open("rb") as source:
        restored = superuser(
            pg, port, "pg_restore", "--no-owner", "--role=threadwork", "-d", "threadwork", stdin=source
        )
    assert restored.returncode == 0, restored.stderr

    check = psql_as_threadwork(
        pg, port, password, "SELECT x FROM notes; SELECT tableowner FROM pg_tables WHERE tablename = 'notes'"
    )
    assert check.stdout.split() == ["7", "threadwork"], check.stderr
    assert psql_as_threadwork(pg, port, password, "CREATE TABLE later (y int)").returncode == 0  # migrations still can
