"""The node's own paths: a symlink anywhere below its data root or state root is refused,
and nothing is created, read or written through it (node_runtime/safe_paths.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from node_runtime.apply.data_dirs import check_member_mounts, create_data_dir
from node_runtime.apply.hooks import canonical_hook_source
from node_runtime.apply.outcome import SYMLINK_HINT, ActionFailed
from node_runtime.apply.secrets import read_secret_file, write_secret_once
from node_runtime.engines.stage_engine import StageEngine
from node_runtime.plan.desired import desired_app
from node_runtime.store.safe_paths import UnsafePath, directory_state
from tests.support.catalogs import catalog_app, simple_manifest


def test_a_symlink_at_any_depth_below_the_root_is_refused_and_above_it_is_followed(
    tmp_path: Path,
) -> None:
    real = tmp_path / "real"
    (real / "app/vol").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "link-to-real").symlink_to(real)  # the owner's root may be a link
    assert (
        directory_state(str(tmp_path / "link-to-real"), str(tmp_path / "link-to-real/app/vol"))
        == "directory"
    )
    os.rename(real / "app/vol", real / "app/vol.old")
    (real / "app/vol").symlink_to(tmp_path / "outside")
    with pytest.raises(UnsafePath, match=r"/real/app/vol is a symlink \(to .*/outside\)"):
        directory_state(str(real), str(real / "app/vol"))
    with pytest.raises(UnsafePath, match="is a symlink"):
        directory_state(str(real), str(real / "app/vol/deeper"))
    with pytest.raises(UnsafePath, match="is not inside"):
        directory_state(str(real), str(real / "app/../../outside"))


def test_creating_a_data_dir_through_a_planted_symlink_is_refused_and_writes_nothing(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    (data / "app").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (data / "app/vol").symlink_to(outside)
    engine = StageEngine(tmp_path / "units")
    with pytest.raises(ActionFailed) as refused:
        create_data_dir(engine, str(data / "app/vol/sub"), None, str(data))
    assert str(refused.value) == f"{data}/app/vol is a symlink (to {outside}); {SYMLINK_HINT}"
    with pytest.raises(ActionFailed, match="is a symlink"):
        create_data_dir(engine, str(data / "app/vol"), None, str(data))
    assert os.listdir(outside) == []
    create_data_dir(engine, str(data / "app/other"), None, str(data))
    assert (data / "app/other").is_dir() and not (data / "app/other").is_symlink()


def test_a_member_whose_volume_dir_became_a_symlink_is_not_started(tmp_path: Path) -> None:
    data = tmp_path / "data"
    spec = desired_app(catalog_app(simple_manifest("web"), str(data)), str(data)).specs[0]
    (data / "web/data").mkdir(parents=True)
    check_member_mounts(spec, str(data))  # a real dir: fine
    os.rename(data / "web/data", data / "web/data.old")
    (data / "web/data").symlink_to(tmp_path)
    with pytest.raises(ActionFailed) as refused:
        check_member_mounts(spec, str(data))
    assert str(refused.value) == (
        f"refusing to start web: volume dir of web {data}/web/data: {data}/web/data is a "
        f"symlink (to {tmp_path}); {SYMLINK_HINT}"
    )


def test_secret_files_are_never_written_or_read_through_a_symlinked_dir(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "secrets").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (state / "secrets/app").symlink_to(elsewhere)
    with pytest.raises(ActionFailed, match="secrets/app is a symlink"):
        write_secret_once(state / "secrets/app/token", b"value", state)
    assert os.listdir(elsewhere) == []
    (elsewhere / "token").write_bytes(b"planted")
    with pytest.raises(ActionFailed, match="secrets/app is a symlink"):
        read_secret_file(state / "secrets/app/token", state)
    (state / "secrets/app").unlink()
    assert write_secret_once(state / "secrets/app/token", b"value", state) is True
    assert write_secret_once(state / "secrets/app/token", b"other", state) is False
    assert read_secret_file(state / "secrets/app/token", state) == b"value"
    assert oct((state / "secrets/app/token").stat().st_mode & 0o777) == "0o600"
    assert oct((state / "secrets/app").stat().st_mode & 0o777) == "0o700"


def test_copy_from_host_refuses_a_symlinked_dir_on_the_way_even_inside_the_allowlist(
    tmp_path: Path,
) -> None:
    allowed = tmp_path / "hooks"
    (allowed / "real").mkdir(parents=True)
    (allowed / "real/file.txt").write_text("ok")
    (allowed / "alias").symlink_to(allowed / "real")  # inside, but a link
    assert canonical_hook_source(str(allowed / "real/file.txt"), [str(allowed)]) == str(
        allowed / "real/file.txt"
    )
    with pytest.raises(ActionFailed, match="alias is a symlink"):
        canonical_hook_source(str(allowed / "alias/file.txt"), [str(allowed)])
