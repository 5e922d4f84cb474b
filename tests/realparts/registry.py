"""Debian's docker-registry (distribution 2.8) on 127.0.0.1 (DESIGN §8).

Used to test image digest resolution: push an image built locally, then ask
the registry for the manifest digest as a node or the pipeline would.

    def test_x(local_registry, rootless_podman, busybox_image):
        digest = push_image(rootless_podman, busybox_image, local_registry, "app/web:1")
        assert local_registry.manifest_digest("app/web", "1") == digest
        ref = local_registry.ref("app/web", "1")   # "127.0.0.1:<port>/app/web:1"

Plain HTTP, no auth, a temporary storage directory; started per test by the
``local_registry`` fixture (about 0.1 s), or by ``start_registry()``.

``token_registry`` is the same registry with ``auth: token:`` (the bearer
token flow of the distribution spec): a :class:`TokenService` on 127.0.0.1
issues ES256 JWTs carrying an ``x5c`` header with its self-signed
certificate, which the registry trusts as its ``rootcertbundle``.  The
service grants whatever scope is asked (so ``push_image`` works through the
token flow), and ``token_service.mode`` makes it sign with an untrusted key
(``"wrong-key"``) or hand out an already expired token (``"expired"``).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import http.client
import http.server
import json
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from . import SETUP_HINT
from .net import free_port, http_status
from .podman_user import RootlessPodman
from .wait import poll_until

REGISTRY_BIN = "/usr/bin/docker-registry"

MANIFEST_ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


@dataclass(frozen=True)
class LocalRegistry:
    port: int
    storage: Path
    log: Path
    host: str = "127.0.0.1"

    @property
    def address(self) -> str:
        """``127.0.0.1:<port>`` (the registry part of an image reference)."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def ref(self, name: str, tag: str) -> str:
        return f"{self.address}/{name}:{tag}"

    def manifest_head(self, name: str, reference: str) -> tuple[int, dict[str, str]]:
        """HEAD /v2/<name>/manifests/<tag or digest>: (status, headers)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request("HEAD", f"/v2/{name}/manifests/{reference}",
                         headers={"Accept": MANIFEST_ACCEPT})  # fmt: skip
            resp = conn.getresponse()
            resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def manifest_digest(self, name: str, reference: str) -> str:
        """The Docker-Content-Digest of a manifest (AssertionError if absent)."""
        status, headers = self.manifest_head(name, reference)
        assert status == 200, f"HEAD manifest {name}:{reference} -> {status}"
        return headers["docker-content-digest"]


def _config(storage: Path, port: int, auth: str = "") -> str:
    return (
        auth
        + f"""\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
"""
    )


def _launch(
    workdir: Path, storage: Path, timeout: float, auth: str = ""
) -> tuple[subprocess.Popen[bytes], LocalRegistry | None]:
    """Start one registry process on a free port; wait until /v2/ answers.

    Returns (process, registry), or (process, None) if it exited at start
    (e.g. the port was taken meanwhile).
    """
    port = free_port()
    config = workdir / "config.yml"
    config.write_text(_config(storage, port, auth))
    log = workdir / "registry.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            [REGISTRY_BIN, "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin"},
            cwd=workdir,
        )
    reg = LocalRegistry(port=port, storage=storage, log=log)

    def up() -> str | None:
        if proc.poll() is not None:
            return "exited"
        ready = 401 if auth else 200  # with token auth, /v2/ answers the challenge
        return "up" if http_status(f"{reg.url}/v2/") == ready else None

    def tail() -> str:
        return log.read_text()[-2000:]

    state = poll_until(
        up, timeout=timeout, what=f"docker-registry on {reg.address}", describe_last=tail
    )
    return proc, (reg if state == "up" else None)


@contextlib.contextmanager
def start_registry(*, timeout: float = 30.0, auth: str = "") -> Iterator[LocalRegistry]:
    """Start docker-registry on a free 127.0.0.1 port; stop it on exit.

    ``auth`` is an ``auth:`` section of the registry config (empty: anonymous).
    """
    if not shutil.which(REGISTRY_BIN):
        pytest.fail(
            f"{REGISTRY_BIN} is missing (package docker-registry): {SETUP_HINT}", pytrace=False
        )
    workdir = Path(tempfile.mkdtemp(prefix="archy-registry-"))
    storage = workdir / "storage"
    storage.mkdir()
    proc: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(3):  # the free port may be taken meanwhile
            proc, reg = _launch(workdir, storage, timeout, auth)
            if reg is not None:
                yield reg
                return
        log = (workdir / "registry.log").read_text()[-4000:]
        raise AssertionError(f"docker-registry did not start:\n{log}")
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def push_image(podman: RootlessPodman, image: str, registry: LocalRegistry, name_tag: str) -> str:
    """``podman push --tls-verify=false`` ``image`` to ``registry`` as
    ``name:tag``; returns the pushed manifest digest (``sha256:…``)."""
    tmp = podman.make_tmpdir("push")
    try:
        digestfile = tmp / "digest"
        podman.run(
            "push", "--tls-verify=false", "--quiet", "--digestfile", str(digestfile),
            image, f"docker://{registry.address}/{name_tag}",
        )  # fmt: skip
        return digestfile.read_text().strip()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def local_registry() -> Iterator[LocalRegistry]:
    """A fresh, empty docker-registry on 127.0.0.1 for one test."""
    with start_registry() as reg:
        yield reg


# --- bearer-token auth ---------------------------------------------------------

TOKEN_SERVICE_NAME = "archy-test-registry"
TOKEN_ISSUER = "archy-test-token-service"
TOKEN_LIFETIME = datetime.timedelta(minutes=5)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class SigningIdentity:
    """A P-256 key and a self-signed certificate for it (the registry's rootcertbundle)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def generate(cls, name: str) -> SigningIdentity:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate)

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def jwt(self, claims: dict[str, object]) -> str:
        """An ES256 JWT whose ``x5c`` header carries this certificate (base64, DER)."""
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        r, s = decode_dss_signature(
            self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        )
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")  # JOSE: r || s
        return f"{signing_input}.{_b64url(signature)}"


def access_from_scopes(scopes: list[str]) -> list[dict[str, object]]:
    """``repository:NAME:pull,push`` scopes -> the token's ``access`` claim (all granted)."""
    access: list[dict[str, object]] = []
    for scope in scopes:
        for one in scope.split(" "):
            kind, _, rest = one.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind and name:
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
    return access


@dataclass
class TokenService:
    """A token realm on 127.0.0.1: ``GET /token?service=…&scope=…`` -> ``{"token": JWT}``."""

    trusted: SigningIdentity
    untrusted: SigningIdentity
    mode: str = "good"  # "good", "wrong-key" or "expired"
    requests: list[dict[str, list[str]]] = field(default_factory=list)
    server: http.server.ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def realm(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def stop(self) -> None:
        """Stop answering and close the port (the realm then refuses connections)."""
        if self.server is not None and self._thread is not None:
            self.server.shutdown()
            self.server.server_close()
            self._thread.join(timeout=10)
            self._thread = None

    def issue(self, scopes: list[str]) -> str:
        now = datetime.datetime.now(datetime.UTC)
        if self.mode == "expired":
            now -= 4 * TOKEN_LIFETIME  # far beyond the registry's 60 s leeway
        identity = self.untrusted if self.mode == "wrong-key" else self.trusted
        return identity.jwt(
            {
                "iss": TOKEN_ISSUER,
                "sub": "archy-test",
                "aud": TOKEN_SERVICE_NAME,
                "exp": int((now + TOKEN_LIFETIME).timestamp()),
                "nbf": int(now.timestamp()),
                "iat": int(now.timestamp()),
                "jti": uuid.uuid4().hex,
                "access": access_from_scopes(scopes),
            }
        )

    def registry_auth(self, bundle: Path) -> str:
        """The registry's ``auth: token:`` config section trusting this service."""
        bundle.write_bytes(self.trusted.pem())
        return (
            "auth:\n  token:\n"
            f"    realm: {self.realm}\n    service: {TOKEN_SERVICE_NAME}\n"
            f"    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {bundle}\n"
        )


def _token_handler(service: TokenService) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            service.requests.append(query)
            if url.path != "/token" or query.get("service") != [TOKEN_SERVICE_NAME]:
                self.send_error(404)
                return
            token = service.issue(query.get("scope", []))
            body = json.dumps({"token": token, "access_token": token, "expires_in": 300})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: object) -> None:
            return None

    return Handler


@contextlib.contextmanager
def start_token_service() -> Iterator[TokenService]:
    service = TokenService(
        SigningIdentity.generate("archy test token signer"),
        SigningIdentity.generate("someone else"),
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _token_handler(service))
    service.server = server
    service._thread = threading.Thread(target=server.serve_forever, daemon=True)
    service._thread.start()
    try:
        yield service
    finally:
        service.stop()


@dataclass(frozen=True)
class TokenRegistry:
    registry: LocalRegistry
    tokens: TokenService


@pytest.fixture
def token_registry(tmp_path: Path) -> Iterator[TokenRegistry]:
    """docker-registry with ``auth: token:`` and its token service, both on 127.0.0.1."""
    with start_token_service() as tokens:
        auth = tokens.registry_auth(tmp_path / "token-signer.pem")
        with start_registry(auth=auth) as registry:
            yield TokenRegistry(registry, tokens)
