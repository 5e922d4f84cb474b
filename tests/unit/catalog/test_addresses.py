"""The address forms both programs read (catalog.locations) and BLAKE3 naming
(catalog.address): what each form becomes, and the exact line a malformed one is refused with,
as a caller and an owner running ``archy-node init`` see it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from catalog.address import blake3_hex, blake3_stream, is_blake3_hex
from catalog.locations import iroh_seed_url, origin_base_url, parse_iroh_seed_url
from node_runtime.commands import main
from node_runtime.store.node_config import STATE_ROOT_ENV
from tests.support.repos import LiveRepository

EMPTY_BLAKE3 = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
ENDPOINT = "http://127.0.0.1:8333"


# --- BLAKE3 naming ---


def test_blake3_hex_is_the_lower_case_hex_digest() -> None:
    assert blake3_hex(b"") == EMPTY_BLAKE3
    assert blake3_hex(b"abc") == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"


class _RecordingStream(io.BytesIO):
    """A real in-memory stream that remembers how many bytes each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int | None] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.asked.append(size)
        return super().read(size)


def test_a_stream_is_hashed_in_chunks_to_the_same_digest_as_its_bytes() -> None:
    data = bytes(range(256)) * 40  # 10,240 bytes
    stream = _RecordingStream(data)
    assert blake3_stream(stream, chunk_size=4096) == blake3_hex(data)
    assert stream.asked == [4096, 4096, 4096, 4096]  # 4096 + 4096 + 2048, then the empty read


def test_a_stream_is_read_a_mebibyte_at_a_time_by_default() -> None:
    stream = _RecordingStream(b"x" * 10)
    assert blake3_stream(stream) == blake3_hex(b"x" * 10)
    assert stream.asked == [1 << 20, 1 << 20]


def test_an_empty_stream_has_the_empty_digest() -> None:
    assert blake3_stream(io.BytesIO(b"")) == EMPTY_BLAKE3


@pytest.mark.parametrize(
    "text",
    [
        EMPTY_BLAKE3.upper(),  # upper case
        EMPTY_BLAKE3[:-1],  # 63 digits
        EMPTY_BLAKE3 + "0",  # 65 digits
        EMPTY_BLAKE3 + "\n",  # a trailing newline
        "g" + EMPTY_BLAKE3[1:],  # not hex
        "",
    ],
)
def test_only_64_lower_case_hex_digits_name_a_blob(text: str) -> None:
    assert is_blake3_hex(EMPTY_BLAKE3) is True
    assert is_blake3_hex(text) is False


# --- origins ---


@pytest.mark.parametrize(
    ("origin", "base"),
    [
        ("http://127.0.0.1:8080/repo/", "http://127.0.0.1:8080/repo"),
        ("https://127.0.0.1/a/b//", "https://127.0.0.1/a/b"),
        ("file:///srv/repo/", "file:///srv/repo"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/X", "http://127.0.0.1:8080/X"),  # only slashes are trimmed
    ],
)
def test_http_and_file_origins_are_kept_without_their_trailing_slashes(
    origin: str, base: str
) -> None:
    assert origin_base_url(origin) == base
    assert origin_base_url(origin, ENDPOINT) == base  # an S3 endpoint changes nothing here


def test_an_s3_origin_is_read_path_style_from_its_endpoint() -> None:
    assert origin_base_url("s3://bucket/pre/fix/", ENDPOINT + "/") == f"{ENDPOINT}/bucket/pre/fix"
    assert origin_base_url("s3://bucket", ENDPOINT) == f"{ENDPOINT}/bucket"
    assert origin_base_url("s3://bucket/", ENDPOINT) == f"{ENDPOINT}/bucket"
    # only slashes are trimmed, from the prefix and the endpoint
    assert origin_base_url("s3://bucket/X", ENDPOINT + "/X") == f"{ENDPOINT}/X/bucket/X"


def test_an_s3_origin_without_an_endpoint_is_the_buckets_public_url() -> None:
    assert origin_base_url("s3://bucket/pre/fix") == "https://bucket.s3.amazonaws.com/pre/fix"
    assert origin_base_url("s3://bucket") == "https://bucket.s3.amazonaws.com"
    assert origin_base_url("s3://bucket/", "") == "https://bucket.s3.amazonaws.com"


def test_a_plain_path_becomes_an_absolute_file_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert origin_base_url("repo/dir") == (tmp_path / "repo" / "dir").as_uri()
    assert origin_base_url(str(tmp_path)) == tmp_path.as_uri()


@pytest.mark.parametrize(
    ("origin", "refusal"),
    [
        ("s3:///prefix", "s3:///prefix: an s3:// origin needs a bucket (s3://BUCKET/PREFIX)"),
        ("s3://", "s3://: an s3:// origin needs a bucket (s3://BUCKET/PREFIX)"),
        (
            "ftp://127.0.0.1/x",
            "ftp://127.0.0.1/x: unsupported origin (use file://, http(s):// or s3://)",
        ),
        (
            "iroh://abc@127.0.0.1:1",
            "iroh://abc@127.0.0.1:1: unsupported origin (use file://, http(s):// or s3://)",
        ),
    ],
)
def test_a_malformed_origin_is_refused_with_one_line_naming_it(origin: str, refusal: str) -> None:
    with pytest.raises(ValueError) as raised:
        origin_base_url(origin, ENDPOINT)
    assert str(raised.value) == refusal


# --- iroh seeds ---


def test_an_iroh_seed_url_names_the_endpoint_and_its_addresses() -> None:
    seed = iroh_seed_url("abc123", ["127.0.0.1:4433", "[::1]:4433"])
    assert seed == "iroh://abc123@127.0.0.1:4433,[::1]:4433"
    assert parse_iroh_seed_url(seed) == ("abc123", ["127.0.0.1:4433", "[::1]:4433"])
    assert iroh_seed_url("abc123", []) == "iroh://abc123@"


@pytest.mark.parametrize(
    ("seed", "parsed"),
    [
        ("iroh://abc@127.0.0.1:1/", ("abc", ["127.0.0.1:1"])),
        ("iroh://abc@127.0.0.1:1//", ("abc", ["127.0.0.1:1"])),
        ("iroh://abc@,127.0.0.1:1,,[::1]:2,", ("abc", ["127.0.0.1:1", "[::1]:2"])),
        ("iroh://abc", ("abc", [])),
        ("iroh://abcX", ("abcX", [])),  # only slashes are trimmed
        ("iroh://abc@", ("abc", [])),
    ],
)
def test_an_iroh_seed_url_is_read_leniently_around_its_addresses(
    seed: str, parsed: tuple[str, list[str]]
) -> None:
    assert parse_iroh_seed_url(seed) == parsed


@pytest.mark.parametrize(
    "seed", ["iroh://@127.0.0.1:1", "abc@127.0.0.1:1", "iroh://", "iroh:///", "IROH://abc@x"]
)
def test_an_iroh_seed_url_without_its_scheme_or_endpoint_is_refused(seed: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_iroh_seed_url(seed)
    assert str(raised.value) == (f"{seed!r}: an iroh seed is iroh://<endpoint id>@<host:port>,…")


# --- as the owner sees them: archy-node init ---


@pytest.fixture(scope="module")
def root_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("registry")
    path = directory / "root.json"
    path.write_bytes(LiveRepository(directory / "repository").root_bytes(1))
    return path


def _init(state_root: Path, root_file: Path, *options: str) -> Result:
    return CliRunner().invoke(
        main, ["init", "--root", str(root_file), *options], env={STATE_ROOT_ENV: str(state_root)}
    )


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        (
            ["--origin", "s3:///repo"],
            "error: s3:///repo: an s3:// origin needs a bucket (s3://BUCKET/PREFIX)",
        ),
        (
            ["--origin", "gopher://127.0.0.1/repo"],
            "error: gopher://127.0.0.1/repo: unsupported origin (use file://, http(s):// or s3://)",
        ),
        (
            ["--origin", "http://127.0.0.1:9/", "--seed", "iroh://@127.0.0.1:1"],
            "error: 'iroh://@127.0.0.1:1': an iroh seed is iroh://<endpoint id>@<host:port>,…",
        ),
        (
            ["--origin", "http://127.0.0.1:9/", "--seed", "iroh://abc@"],
            "error: seed 'iroh://abc@': name at least one address "
            "(iroh://<endpoint id>@<host:port>)",
        ),
    ],
)
def test_init_refuses_a_malformed_origin_or_seed_with_one_line_and_writes_nothing(
    tmp_path: Path, root_file: Path, options: list[str], refusal: str
) -> None:
    state_root = tmp_path / "node"
    result = _init(state_root, root_file, *options)
    assert result.exit_code == 1, result.output
    assert result.stderr == refusal + "\n"
    assert "Traceback" not in result.output
    assert not state_root.exists()


def test_init_stores_an_s3_origin_as_given_and_an_iroh_seed_as_given(
    tmp_path: Path, root_file: Path
) -> None:
    state_root = tmp_path / "node"
    seed = "iroh://abc@127.0.0.1:4433,[::1]:4433"
    result = _init(
        state_root,
        root_file,
        "--origin",
        "s3://bucket/repo",
        "--s3-endpoint",
        ENDPOINT,
        "--seed",
        seed,
        "--data-root",
        str(tmp_path / "data"),
    )
    assert result.exit_code == 0, result.output
    config = json.loads((state_root / "config.json").read_text())
    assert (config["origin"], config["s3_endpoint"], config["seeds"]) == (
        "s3://bucket/repo",
        ENDPOINT,
        [seed],
    )
