"""The policy's rule table and the order problems are reported in.

Every rule id (``P001`` ...) is listed once here with what it refuses and whether one
manifest can break it (``app``), only the whole catalog (``catalog``), both, or only
the node; an id never changes meaning (``docs/policy.md`` is the table app authors
read).  Problems are always reported sorted by file, line, field, rule.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from catalog.problems import Problem


@dataclass(frozen=True)
class Rule:
    """One policy rule: a stable id, what it refuses, and whether one manifest can show it."""

    id: str
    summary: str
    scope: Literal["app", "catalog", "app+catalog", "node"]


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("P001", "no privileged containers", "app"),
        Rule("P002", "no container-engine or service-manager sockets, state or config", "app"),
        Rule(
            "P003", "host paths absolute, under the app's data dir unless granted; no '..'", "app"
        ),
        Rule("P004", "no host network without permissions.host_network", "app"),
        Rule("P005", "images carry a tag, and the tag is not latest", "app"),
        Rule(
            "P006", "host ports are unique per protocol, in the app and the catalog", "app+catalog"
        ),
        Rule("P007", "container names are unique across the catalog", "catalog"),
        Rule("P008", "every {secret: X} is declared in generated_secrets", "app"),
        Rule("P009", "every requires resolves, in its version range, with its settings", "catalog"),
        Rule("P010", "no dependency cycles (depends_on, requires)", "app+catalog"),
        Rule("P011", "cap_add only from the allowlist", "app"),
        Rule("P012", "devices only when listed in permissions.devices", "app"),
        Rule(
            "P013", "hooks copy only from allowlisted host dirs, into the app's own members", "app"
        ),
        Rule("P014", "ui.port is a published container port of the ui member", "app"),
        Rule("P015", "images are pinned by @sha256 digest (required when publishing)", "app"),
        Rule("P016", "app ids are unique and never another app's provides", "catalog"),
        Rule("P017", "data_uid only on members that have volumes", "app"),
        Rule("P018", "ui.route is unique and not nested in another app's route", "catalog"),
        Rule("P019", "migration.adopt never takes another app's container", "catalog"),
        Rule("P020", "every permission asked for is used", "app"),
        Rule(
            "P021",
            "volume host dirs are not the data root or an app's data dir, and never nest",
            "app+catalog",
        ),
        Rule("P022", "names derived from app ids and container names never clash", "catalog"),
        Rule("P023", "every value can be written into a unit and a podman command", "app"),
        Rule(
            "P024",
            "{secret: X, from: C} names a required capability whose providers export X",
            "app+catalog",
        ),
        Rule(
            "P025",
            "providers of a capability export the same alias, secrets and settings",
            "catalog",
        ),
        Rule("P026", "at most one installed provider of a capability", "node"),
        Rule("P027", "an app is installed only with a provider of what it requires", "node"),
        Rule("P028", "a provider others depend on is uninstalled only with --force", "node"),
    )
}


def warning(problem: Problem) -> Problem:
    """The same problem, reported as a warning (it does not refuse the app)."""
    return dataclasses.replace(problem, severity="warning")


def problem_order(problem: Problem) -> tuple[str, int, str, str, str, str]:
    """File, line, field, rule: the order problems are reported in."""
    return (
        problem.file,
        problem.line or 0,
        problem.field,
        problem.rule or "",
        problem.message,
        problem.severity,
    )
