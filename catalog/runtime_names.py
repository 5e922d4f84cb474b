"""Every name and host path the node derives from an app id, built one way.

A derived name joins the app id and the part with ``_`` (:data:`NAME_SEPARATOR`),
which app ids cannot contain, so two different (app, part) pairs never give the same
name and :func:`split_derived_name` reads it back.  Units, Podman secrets and data
dirs all go through :func:`derived_name` / :func:`app_data_dir`; the shared network
and the labels are fixed names, never derived from an app id.  Pure string functions.
"""

from __future__ import annotations

import posixpath

DEFAULT_DATA_ROOT = "/var/lib/archipelago"


NETWORK_NAME = "archy-net"


NETWORK_UNIT_FILE = f"{NETWORK_NAME}.network"


LABEL_APP = "archy.app"


LABEL_MEMBER = "archy.member"


LABEL_CONFIG_HASH = "archy.config-hash"


# Joins an app id and the part a derived name is for; app ids never contain it.
NAME_SEPARATOR = "_"


NAME_PREFIX = "archy-"


def derived_name(app_id: str, part: str) -> str:
    """``archy-<app>_<part>``: the one way a name is built from an app id."""
    return f"{NAME_PREFIX}{app_id}{NAME_SEPARATOR}{part}"


def split_derived_name(name: str) -> tuple[str, str] | None:
    """``archy-<app>_<part>`` -> (app, part); None for a name no app id derives.

    Unit names are read without their ``.container``/``.service`` suffix.
    """
    if not name.startswith(NAME_PREFIX):
        return None
    app_id, separator, part = name[len(NAME_PREFIX) :].partition(NAME_SEPARATOR)
    if not separator or not app_id or not part:
        return None
    return app_id, part


def member_unit_name(app_id: str, container_name: str) -> str:
    """The unit's base name: ``archy-<app>_<container>`` (+ .container / .service)."""
    return derived_name(app_id, container_name)


def podman_secret_name(app_id: str, secret_name: str) -> str:
    """The Podman secret that holds one generated secret of an app: ``archy-<app>_<secret>``."""
    return derived_name(app_id, secret_name)


# The owner part of the names of capability-exported secrets: a reserved app id (P024),
# so ``archy-cap_<capability>_<secret>`` is never another app's derived name.
CAPABILITY_OWNER = "cap"


def capability_secret_home(capability: str, secret_name: str) -> tuple[str, str]:
    """The (owner, name) of the secret a capability's provider exports."""
    return CAPABILITY_OWNER, f"{capability}{NAME_SEPARATOR}{secret_name}"


def app_data_dir(app_id: str, data_root: str = DEFAULT_DATA_ROOT) -> str:
    """``<data_root>/<app>``: every volume of the app lives below it."""
    return posixpath.join(data_root, app_id)


def volume_host_path(
    app_id: str, volume_name: str, host_path: str | None, data_root: str = DEFAULT_DATA_ROOT
) -> str:
    """The host side of a volume: the granted ``host_path``, or ``<data_root>/<app>/<name>``.

    Normalised (``//`` and ``.`` collapse, no trailing ``/``), so equal dirs compare
    equal.  A relative ``host_path`` is refused (P003); it would name a dir of the
    app's data dir.
    """
    if host_path is not None:
        return normalise_path(posixpath.join(app_data_dir(app_id, data_root), host_path))
    return posixpath.join(app_data_dir(app_id, data_root), volume_name)


def normalise_path(path: str) -> str:
    """``//var/./lib/x/`` -> ``/var/lib/x`` (``..`` steps up; it is refused elsewhere)."""
    normal = posixpath.normpath(path)
    return "/" + normal.lstrip("/") if normal.startswith("/") else normal


def path_is_within(path: str, directory: str) -> bool:
    """``path`` is ``directory`` or below it (both normalised)."""
    return path == directory or path.startswith(directory.rstrip("/") + "/")
