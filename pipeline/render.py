"""Render an app's Quadlet units from its manifest (DESIGN §4).

One ``archy-<app>_<container>.container`` unit per member plus the network unit of
the app's registry (``archy-net.network`` for the official one, ``archy-<hex>-net.network``
for a third party's, :mod:`catalog.app_network`), from the jinja2 templates in
``pipeline/templates``.
What goes into a unit is decided by :mod:`catalog.runtime_spec` (shared with
the podman backend); this module only writes it down.

Every value a template prints must pass through one of the escaping filters
(``word``, ``words``, ``raw``, ``text``, ``number``): the environment's
``finalize`` hook refuses anything else, so a template cannot print an
unescaped value by mistake.  The bytes are deterministic: the catalog stores
them, and a node installs exactly what CI checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

from catalog.app_network import network_unit_file
from catalog.loader import ManifestSource
from catalog.manifest import Manifest
from catalog.member_spec import MemberSpec
from catalog.problems import ManifestError, Problem, format_field_path
from catalog.runtime_names import (
    DEFAULT_DATA_ROOT,
    NETWORK_NAME,
    member_unit_name,
)
from catalog.runtime_spec import app_runtime_specs
from catalog.spec_problems import RuntimeSpecError
from catalog.systemd_syntax import (
    UnitSyntaxError,
    plain_text_value,
    quote_word,
    quote_words,
    raw_value,
)
from pipeline.appset import load_app_folder
from pipeline.atomic_file import write_file_atomically
from pipeline.policy import check_app

# systemd's default (90 s) is too short for an image pull plus a slow first start.
MINIMUM_START_TIMEOUT_SECONDS = 900

_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


class UnitValue(str):
    """Text that an escaping filter produced: the only thing templates may print."""


def _word(value: str) -> UnitValue:
    return UnitValue(quote_word(str(value)))


def _words(values: tuple[str, ...] | list[str]) -> UnitValue:
    return UnitValue(quote_words(list(values)))


def _raw(value: str) -> UnitValue:
    return UnitValue(raw_value(str(value)))


def _text(value: str) -> UnitValue:
    return UnitValue(plain_text_value(str(value)))


def _number(value: int) -> UnitValue:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"number filter expects an int, got {value!r}")
    return UnitValue(str(value))


def _only_escaped(value: Any) -> UnitValue:
    if not isinstance(value, UnitValue):
        raise TypeError(
            f"template printed {value!r} without an escaping filter "
            "(word, words, raw, text, number)"
        )
    return value


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline", "templates"),
        undefined=jinja2.StrictUndefined,
        # Unit files are not HTML: systemd escaping is enforced by finalize instead.
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_only_escaped,
    )
    environment.filters.update(word=_word, words=_words, raw=_raw, text=_text, number=_number)
    return environment


_TEMPLATES = _environment()


def container_file_name(app_id: str, container_name: str) -> str:
    return f"{member_unit_name(app_id, container_name)}.container"


def service_name(app_id: str, container_name: str) -> str:
    """The systemd service Quadlet generates from a member's unit."""
    return f"{member_unit_name(app_id, container_name)}.service"


def duration_seconds(duration: str) -> float:
    """``30s`` -> 30.0, ``2m`` -> 120.0 (the manifest's duration syntax)."""
    for suffix in ("ms", "s", "m", "h"):
        if duration.endswith(suffix) and duration[: -len(suffix)].isdigit():
            return int(duration[: -len(suffix)]) * _DURATION_SECONDS[suffix]
    raise ValueError(f"{duration!r} is not a duration like 30s or 2m")


def start_timeout_seconds(spec: MemberSpec) -> int:
    """How long systemd waits for a member to become healthy before it counts as failed."""
    if spec.health is None:
        return MINIMUM_START_TIMEOUT_SECONDS
    health = spec.health
    budget = duration_seconds(health.start_period) + (health.retries + 1) * (
        duration_seconds(health.interval) + duration_seconds(health.timeout)
    )
    return max(MINIMUM_START_TIMEOUT_SECONDS, int(budget) + 60)


def render_member(spec: MemberSpec) -> str:
    """The ``.container`` unit of one member."""
    template = _TEMPLATES.get_template("member.container.j2")
    return template.render(
        spec=spec,
        container_file=container_file_name(spec.app_id, spec.name),
        dependency_services=[service_name(spec.app_id, name) for name in spec.depends_on],
        network="host" if spec.network == "host" else network_unit_file(spec.network),
        start_timeout_seconds=start_timeout_seconds(spec),
    )


def render_network(network: str = NETWORK_NAME) -> str:
    """``<network>.network``: the same bytes for every app of one registry."""
    return _TEMPLATES.get_template("network.network.j2").render(network_name=network)


def _refusal(source: ManifestSource | Manifest, error: RuntimeSpecError) -> ManifestError:
    if isinstance(source, ManifestSource):
        return ManifestError(source.problem(p.location, p.message, p.rule) for p in error.problems)
    filename = f"apps/{source.id}/manifest.yml"
    return ManifestError(
        Problem(filename, None, format_field_path(p.location), p.message, p.rule)
        for p in error.problems
    )


def render_app(
    manifest: Manifest | ManifestSource,
    data_root: str = DEFAULT_DATA_ROOT,
    network: str = NETWORK_NAME,
) -> dict[str, str]:
    """Every unit of one app: {file name: text}, the members' units and ``<network>.network``
    (``archy-net`` for the official registry; a developer build passes its registry's).

    Raises ManifestError (every problem, with lines when given a ManifestSource)
    when a value cannot be put into a unit safely.
    """
    model = manifest.manifest if isinstance(manifest, ManifestSource) else manifest
    try:
        specs = app_runtime_specs(model, data_root, network)
        units = {container_file_name(spec.app_id, spec.name): render_member(spec) for spec in specs}
    except RuntimeSpecError as error:
        raise _refusal(manifest, error) from None
    except UnitSyntaxError as error:  # the spec checks should have caught it; still refuse
        raise ManifestError(
            [Problem(f"apps/{model.id}/manifest.yml", None, "", str(error))]
        ) from None
    units[network_unit_file(network)] = render_network(network)
    return dict(sorted(units.items()))


def render_app_folder(folder: Path, data_root: str = DEFAULT_DATA_ROOT) -> dict[str, str]:
    """Load, validate (schema and per-app policy) and render one app folder.

    Refuses with ManifestError, listing every error, before anything is rendered.
    """
    app = load_app_folder(folder)
    errors = [problem for problem in check_app(app.source) if problem.severity == "error"]
    if errors:
        raise ManifestError(errors)
    return render_app(app.source, data_root)


def write_units(units: Mapping[str, str], out_dir: Path) -> list[Path]:
    """Write each unit to ``out_dir`` atomically (temp file + rename); return the paths."""
    for name in units:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"{name!r} is not a unit file name")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, text in sorted(units.items()):
        target = out_dir / name
        write_file_atomically(target, text.encode("utf-8"), mode=0o644, prefix=f".{name}.")
        written.append(target)
    return written
