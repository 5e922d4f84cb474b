"""The JSON Schema `archy schema` prints: the manifest shape plus the policy a schema can check.

``catalog.manifest`` describes the *shape* of a manifest.  Editors and CI
linters that only speak JSON Schema should also catch the security rules
that a schema can express — so this module overlays them: no privileged
containers (P001), no engine sockets (P002), no ``..`` in paths (P003), host
network and NET_ADMIN/devices only with their permission (P004, P011, P012),
a real tag that is not ``latest`` (P005), the capability allowlist (P011) and
hook sources under the allowlisted directories (P013).

Rules that compare values across fields or across apps (unique ports and
names, declared secrets, resolvable requirements, cycles, the ui port, a
host path under *this* app's data dir) are beyond JSON Schema;
``archy validate`` checks those.  ``SCHEMA_RULES`` names what the schema
covers, so the tests can hold it to that.
"""

from __future__ import annotations

import re
from typing import Any

from catalog.manifest import manifest_json_schema
from catalog.runtime_spec import ALLOWED_CAPABILITIES, NET_ADMIN_CAPABILITIES
from pipeline.hostpaths import ENGINE_LOCATIONS, ENGINE_SOCKET_NAMES, HOOK_SOURCE_ROOTS

# Rules whose every error-level failing case the exported schema rejects.
SCHEMA_RULES = frozenset({"P001", "P002", "P004", "P005", "P011", "P012", "P013"})

PARENT_REFERENCE = r"(^|/)\.\.(/|$)"
TAGGED_NOT_LATEST = (
    r"^(?:[^/@\s]+/)*[^/:@\s]+:(?![Ll][Aa][Tt][Ee][Ss][Tt](?:@|$))"
    r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(?:@sha256:[0-9a-f]{64})?$"
)


def _engine_pattern() -> str:
    """Paths that reach a container engine or the service manager (P002), as one regex."""
    names = "|".join(re.escape(name) for name in sorted(ENGINE_SOCKET_NAMES))
    locations = "|".join(
        re.escape(location).replace(r"\*", "[^/]+") for location in ENGINE_LOCATIONS
    )
    return rf"(^|/)({names})/*$|^/*({locations})(/|$)|^/+(run|var/run|var/lib|home|root|etc)?/*$"


def _contains_member(condition: dict[str, Any]) -> dict[str, Any]:
    return {
        "properties": {"containers": {"contains": condition}},
        "required": ["containers"],
    }


def _needs_permission(member: dict[str, Any], permission: dict[str, Any]) -> dict[str, Any]:
    return {
        "if": _contains_member(member),
        "then": {
            "properties": {"permissions": {"properties": permission}},
            "required": ["permissions"],
        },
    }


def policy_json_schema() -> dict[str, Any]:
    """The manifest JSON Schema with the policy rules JSON Schema can express."""
    schema = manifest_json_schema()
    definitions = schema["$defs"]
    no_parent = {"not": {"pattern": PARENT_REFERENCE}}
    no_engine = {"not": {"pattern": _engine_pattern()}}

    container = definitions["Container"]["properties"]
    container["privileged"]["const"] = False
    container["image"]["pattern"] = TAGGED_NOT_LATEST
    capabilities = ALLOWED_CAPABILITIES | NET_ADMIN_CAPABILITIES
    container["cap_add"]["items"]["enum"] = sorted(
        capabilities | {f"CAP_{name}" for name in capabilities}
    )

    volume = definitions["Volume"]["properties"]
    volume["path"]["allOf"] = [no_parent, no_engine]
    for branch in volume["host_path"]["anyOf"]:
        if branch.get("type") == "string":
            branch["allOf"] = [no_parent, no_engine]
    permissions = definitions["Permissions"]["properties"]
    permissions["host_paths"]["items"]["allOf"] = [no_parent, no_engine]
    permissions["devices"]["items"]["allOf"] = [no_parent]
    container["devices"]["items"]["allOf"] = [no_parent]

    roots = "|".join(re.escape(root) for root in HOOK_SOURCE_ROOTS)
    definitions["CopyFromHost"]["properties"]["source"]["allOf"] = [
        {"pattern": rf"^({roots})/+[^/]"},
        no_parent,
    ]

    schema["allOf"] = [
        _needs_permission(
            {"properties": {"host_network": {"const": True}}, "required": ["host_network"]},
            {"host_network": {"const": True}},
        ),
        _needs_permission(
            {
                "properties": {
                    "cap_add": {
                        "contains": {
                            "enum": sorted(
                                NET_ADMIN_CAPABILITIES
                                | {f"CAP_{name}" for name in NET_ADMIN_CAPABILITIES}
                            )
                        }
                    }
                },
                "required": ["cap_add"],
            },
            {"net_admin": {"const": True}},
        ),
        _needs_permission(
            {"properties": {"devices": {"minItems": 1}}, "required": ["devices"]},
            {"devices": {"minItems": 1}},
        ),
    ]
    return schema
