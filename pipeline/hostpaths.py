"""Host paths as text: canonical form, the app's data dir, and what no app may touch.

Manifests name paths as text, so every check here is textual: a path is
resolved the way the kernel would resolve it if no component were a symlink
(``//`` and ``.`` collapse, ``..`` steps up).  Callers refuse ``..`` outright;
resolving it here anyway means a path is judged by where it really points.
Symlinks on the node are the node's job (it canonicalises hook sources and
refuses escapes at run time).
"""

from __future__ import annotations

from catalog.runtime_names import DEFAULT_DATA_ROOT, app_data_dir

DATA_ROOT = DEFAULT_DATA_ROOT

# copy_from_host may read only below these directories (policy P013).
HOOK_SOURCE_ROOTS = ("/usr/share/archipelago", "/etc/archipelago/app-assets")

# File names of container-engine control sockets, wherever they are mounted from.
ENGINE_SOCKET_NAMES = frozenset(
    {
        "docker.sock",
        "podman.sock",
        "containerd.sock",
        "crio.sock",
        "cri-dockerd.sock",
        "dockershim.sock",
        "buildkitd.sock",
    }
)

# Where container engines and the service manager keep their control sockets,
# state and configuration.  A mount of any of these, of anything below them,
# or of a directory that contains them hands the app the host (policy P002).
# ``*`` stands for exactly one path component.
ENGINE_LOCATIONS = (
    "/run/podman",
    "/var/run/podman",
    "/run/docker",
    "/var/run/docker",
    "/run/containerd",
    "/var/run/containerd",
    "/run/crio",
    "/var/run/crio",
    "/run/buildkit",
    "/run/containers",
    "/var/run/containers",
    "/run/user/*",
    "/var/run/user/*",
    "/run/dbus",
    "/var/run/dbus",
    "/run/systemd",
    "/var/run/systemd",
    "/var/lib/docker",
    "/var/lib/containers",
    "/var/lib/containerd",
    "/etc/containers",
    "/home/*/.local/share/containers",
    "/home/*/.config/containers",
    "/home/*/.config/systemd",
    "/root/.local/share/containers",
    "/root/.config/containers",
)


def has_parent_reference(path: str) -> bool:
    """True when ``path`` has a ``..`` component (refused everywhere in manifests)."""
    return ".." in path.split("/")


def resolve_components(path: str) -> list[str]:
    """The components of ``path`` after collapsing ``//``, ``.`` and ``..`` (never above /)."""
    components: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if components:
                components.pop()
            continue
        components.append(part)
    return components


def canonical(path: str) -> str:
    """``//var/./lib/x/`` -> ``/var/lib/x``; a relative path stays relative."""
    joined = "/".join(resolve_components(path))
    return "/" + joined if path.startswith("/") else joined


def data_dir(app_id: str) -> str:
    """The app's data dir on the node (the default data root)."""
    return app_data_dir(app_id, DATA_ROOT)


def host_side(host_path: str, app_id: str) -> str:
    """The canonical host path a volume's ``host_path`` names; relative means in the data dir."""
    if host_path.startswith("/"):
        return canonical(host_path)
    return canonical(f"{data_dir(app_id)}/{host_path}")


def is_within(path: str, directory: str) -> bool:
    """``path`` is ``directory`` or below it (both canonical)."""
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def is_strictly_within(path: str, directory: str) -> bool:
    """``path`` is below ``directory``, not the directory itself (both canonical)."""
    return path.startswith(directory.rstrip("/") + "/")


def _matches(components: list[str], pattern: list[str]) -> bool:
    return all(p == "*" or p == c for c, p in zip(components, pattern, strict=False))


def engine_location(path: str, *, containing: bool) -> str | None:
    """What engine socket or directory ``path`` is, lies under, or (``containing``) holds.

    Returns a short description for the message, or None when the path is clear.
    """
    components = resolve_components(path)
    if components and components[-1] in ENGINE_SOCKET_NAMES:
        return f"the container engine socket {components[-1]}"
    for location in ENGINE_LOCATIONS:
        pattern = resolve_components(location)
        if len(components) >= len(pattern) and _matches(components, pattern):
            return "/" + "/".join(components[: len(pattern)])
        if containing and _matches(components, pattern):
            return f"/{'/'.join(components)}, which holds {location}"
    return None
