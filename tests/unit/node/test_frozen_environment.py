"""The frozen binary gives the programs it runs the caller's library path back."""

from __future__ import annotations

from node_runtime.frozen_environment import restore_library_path


def test_frozen_restores_the_callers_library_path() -> None:
    environ = {"LD_LIBRARY_PATH": "/tmp/_MEI123", "LD_LIBRARY_PATH_ORIG": "/opt/lib"}
    restore_library_path(environ, frozen=True)
    assert environ == {"LD_LIBRARY_PATH": "/opt/lib"}


def test_frozen_without_a_caller_value_drops_the_bundle_path() -> None:
    environ = {"LD_LIBRARY_PATH": "/tmp/_MEI123", "PATH": "/usr/bin"}
    restore_library_path(environ, frozen=True)
    assert environ == {"PATH": "/usr/bin"}


def test_not_frozen_leaves_the_environment_alone() -> None:
    environ = {"LD_LIBRARY_PATH": "/opt/lib", "LD_LIBRARY_PATH_ORIG": "/x"}
    restore_library_path(environ, frozen=False)
    assert environ == {"LD_LIBRARY_PATH": "/opt/lib", "LD_LIBRARY_PATH_ORIG": "/x"}
