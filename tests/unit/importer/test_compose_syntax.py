"""Compose's short and long syntaxes for ports, volumes, durations, sizes and env files."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.importer.compose_values import (
    PortSpec,
    VolumeSpec,
    byte_count,
    duration_ms,
    parse_env_file_text,
    parse_port,
    parse_volume,
)
from pipeline.importer.reasons import ImportRefused

F = "docker-compose.yml"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("80", [(80, None, "tcp", None)]),
        (80, [(80, None, "tcp", None)]),
        ("8080:80", [(80, 8080, "tcp", None)]),
        ("127.0.0.1:8080:80", [(80, 8080, "tcp", "127.0.0.1")]),
        ("[::1]:8080:80/udp", [(80, 8080, "udp", "::1")]),
        ("53:53/udp", [(53, 53, "udp", None)]),
        ("9000-9001:9000-9001", [(9000, 9000, "tcp", None), (9001, 9001, "tcp", None)]),
        ({"target": 80, "published": "8080", "protocol": "udp"}, [(80, 8080, "udp", None)]),
        ({"target": 80, "host_ip": "127.0.0.1", "published": 81}, [(80, 81, "tcp", "127.0.0.1")]),
        ({"target": "443"}, [(443, None, "tcp", None)]),
    ],
)
def test_port_syntaxes(value: Any, expected: list[tuple[Any, ...]]) -> None:
    assert parse_port(value, F, 3) == [PortSpec(*item, 3) for item in expected]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8000-9000:8000-9000", "port range 8000-9000 has 1001 ports"),
        ("70000", "out of range"),
        ("a:b:c:d", "is not [host_ip:][host:]container[/protocol]"),
        ({"published": 80}, "needs target"),
        ("abc", "is not a port"),
    ],
)
def test_bad_ports_are_refused(value: Any, message: str) -> None:
    with pytest.raises(ImportRefused, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_port(value, F, 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/data", ("volume", None, "/data", False)),
        ("db:/var/lib/db", ("volume", "db", "/var/lib/db", False)),
        ("/srv/x:/x:ro", ("bind", "/srv/x", "/x", True)),
        ("./conf:/etc/app:ro,z", ("bind", "./conf", "/etc/app", True)),
        ("/srv/x:/x:rw", ("bind", "/srv/x", "/x", False)),
        (
            {"type": "bind", "source": "/a", "target": "/b", "read_only": True},
            ("bind", "/a", "/b", True),
        ),
        ({"type": "tmpfs", "target": "/tmp"}, ("tmpfs", None, "/tmp", False)),
    ],
)
def test_volume_syntaxes(value: Any, expected: tuple[Any, ...]) -> None:
    assert parse_volume(value, F, 4) == VolumeSpec(*expected, 4)


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("10s", 10_000),
        ("1m30s", 90_000),
        ("1h", 3_600_000),
        ("500ms", 500),
        ("1.5s", 1500),
        ("", None),
        ("10", None),
        ("ten", None),
    ],
)
def test_durations(text: str, millis: int | None) -> None:
    assert duration_ms(text) == millis


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("512m", 512 << 20),
        ("1.5G", 1536 << 20),
        ("256M", 256 << 20),
        (1024, 1024),
        ("2gb", 2 << 30),
        ("12x", None),
        (True, None),
    ],
)
def test_sizes(value: Any, count: int | None) -> None:
    assert byte_count(value) == count


def test_env_files() -> None:
    text = '# c\nA=1\nexport B=two\nC="quoted # not a comment"\nD=x # comment\nbad line\nE=\n'
    assert parse_env_file_text(text) == {
        "A": "1",
        "B": "two",
        "C": "quoted # not a comment",
        "D": "x",
        "E": "",
    }
