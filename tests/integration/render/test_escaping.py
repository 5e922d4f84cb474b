"""Hostile values cannot change a unit's keys, and reach the container unchanged.

Two oracles: our model of systemd's unit syntax (fast, many examples), and
the real Quadlet generator, whose ``ExecStart=`` line we read back the way
systemd does (specifiers, quotes, C escapes, ``$$``).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from catalog.systemd_syntax import (
    UnitSyntaxError,
    escape_percent_and_dollar,
    parse_unit,
    quote_word,
    raw_value,
    split_command_line,
    split_words,
    unit_keys,
)
from pipeline.render import render_app, write_units
from tests.realparts.quadlet import quadlet_problems, run_quadlet_dryrun
from tests.support.app_manifests import manifest

HOSTILE = [
    "x\nExecStartPre=/bin/sh -c 'touch /tmp/pwned'",
    "x\r\n[Service]\r\nExecStart=/bin/false",
    "%h %n %% %",
    "$HOME ${PATH} $$ $",
    "\"quoted\" 'single'",
    "back\\slash\\",
    "\\\n[Install]\nWantedBy=evil.target",
    "  spaces  around  ",
    "tab\there\vvertical\x7fdel",
    "ünïcødé \u2028 line separator",
    ";",
    "",
]

# What a value may hold: anything but NUL, U+0080 and lone surrogates
# (unit_text_problem refuses those with a message).
unit_text = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00\x80"),
    max_size=40,
)


def rendered_with(value: str, argument: str) -> str:
    app = manifest(
        web={
            "env": {"HOSTILE": value, "PLAIN": "plain"},
            "command": ["/bin/sh", "-c", argument],
            "health": {"cmd": ["test", value]},
        }
    )
    return render_app(app)["archy-demo_web.container"]


BASELINE_KEYS = unit_keys(rendered_with("plain", "plain"))


@given(value=unit_text, argument=unit_text.filter(lambda text: text not in ("", ";")))
@example(value=HOSTILE[0], argument=HOSTILE[1])
@example(value=HOSTILE[2], argument=HOSTILE[3])
@example(value=HOSTILE[6], argument=HOSTILE[5])
@settings(max_examples=400, deadline=None)
def test_hostile_values_never_change_the_set_of_keys(value: str, argument: str) -> None:
    unit = rendered_with(value, argument)
    assert unit_keys(unit) == BASELINE_KEYS
    [environment_hostile, _] = [e.value for e in parse_unit(unit) if e.key == "Environment"]
    assert split_words(environment_hostile) == [f"HOSTILE={escape_percent_and_dollar(value)}"]
    [exec_line] = [e.value for e in parse_unit(unit) if e.key == "Exec"]
    assert split_words(exec_line)[2] == escape_percent_and_dollar(argument)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_quoted_word_reads_back_as_itself(value: str) -> None:
    word = quote_word(value)
    assert "\n" not in word and "\r" not in word
    assert split_command_line(word) == [value]


@pytest.mark.parametrize("value", ["a\nb", " lead", "trail ", "ends\\", "", "nul\x00"])
def test_raw_values_refuse_what_raw_text_cannot_carry(value: str) -> None:
    with pytest.raises(UnitSyntaxError):
        raw_value(value)


def test_an_unquoted_semicolon_is_seen_as_a_command_separator() -> None:
    with pytest.raises(UnitSyntaxError, match="separates commands"):
        split_command_line("/bin/true ; /bin/evil")
    assert split_command_line('/bin/echo ";" \\;') == ["/bin/echo", ";", ";"]


# -- through the real generator ----------------------------------------------------------------


def split_dryrun(stdout: str) -> dict[str, str]:
    """``quadlet -dryrun`` output per unit, split on "\n" only, as systemd reads lines.

    (str.splitlines would also split on U+2028, \v, \f, \x1c-\x1e and \x85,
    which Quadlet leaves raw inside ExecStart=.)
    """
    units: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in stdout.split("\n"):
        if line.startswith("---") and line.endswith("---") and len(line) > 6:
            current = units.setdefault(line[3:-3], [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines) for name, lines in units.items()}


def generated_exec_start(unit_dir: Path) -> list[str]:
    stdout, stderr, returncode = run_quadlet_dryrun(unit_dir)
    assert returncode == 0, stderr
    assert quadlet_problems(stderr) == []
    service = split_dryrun(stdout)["archy-demo_web.service"]
    [exec_start] = [
        e.value for e in parse_unit(service) if e.section == "Service" and e.key == "ExecStart"
    ]
    return split_command_line(exec_start, {"t": "/run/user/1000", "N": "archy-demo_web"})


def option_values(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == option]


@pytest.mark.integration
@given(value=unit_text, argument=unit_text.filter(lambda text: text not in ("", ";")))
@example(value=HOSTILE[0], argument=HOSTILE[1])
@example(value=HOSTILE[2], argument=HOSTILE[3])
@example(value=HOSTILE[4], argument=HOSTILE[5])
@example(value=HOSTILE[6], argument=HOSTILE[7])
@example(value=HOSTILE[8], argument=HOSTILE[9])
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_hostile_values_reach_podman_unchanged_through_the_real_generator(
    quadlet_bin: Path, value: str, argument: str
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        app = manifest(
            web={
                "env": {"HOSTILE": value},
                "command": ["/bin/sh", "-c", argument],
                "health": {"cmd": ["test", value]},
            }
        )
        write_units(render_app(app), Path(directory))
        argv = generated_exec_start(Path(directory))
    assert option_values(argv, "--env") == [f"HOSTILE={value}"]
    assert argv[-3:] == ["/bin/sh", "-c", argument]
    [health] = option_values(argv, "--health-cmd")
    assert json.loads(health) == ["test", value]
