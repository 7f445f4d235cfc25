"""Real storage services for the event tests: moto's S3 server and Azurite, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support.stack import free_port

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "azurite-blob"
#: Azurite's documented development account (public, fixed).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[str]:
    """moto in server mode: a real HTTP S3 endpoint; yields its URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_s3: str) -> str:
    """Credentials and region for boto3 (moto accepts any); returns the endpoint URL."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto_s3


async def _wait_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"azurite exited with {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("azurite did not open its port")
        await asyncio.sleep(0.1)


@pytest_asyncio.fixture(scope="session")
async def azurite(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """Azurite's blob service (installed into .ci/node by scripts/test); yields a connection string."""
    if not AZURITE.exists():
        raise RuntimeError(f"{AZURITE} is missing: run ./scripts/test once (it installs the pinned azurite from npm)")
    if shutil.which("node") is None:
        raise RuntimeError("azurite needs Node.js: apt-get install nodejs")
    port = free_port()
    location = tmp_path_factory.mktemp("azurite")
    proc = subprocess.Popen(  # noqa: ASYNC220 - the fixture's one-off start
        [
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            str(location),
            "--skipApiVersionCheck",
            "--silent",
            "--loose",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        await _wait_port(port, proc)
        yield (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
        )
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
