"""Names derived from app ids: two different (app, part) pairs never give the same name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from catalog.manifest_fields import APP_ID_PATTERN, CONTAINER_NAME_PATTERN, NAME_PATTERN
from catalog.runtime_names import (
    NETWORK_NAME,
    app_data_dir,
    derived_name,
    member_unit_name,
    normalise_path,
    path_is_within,
    podman_secret_name,
    split_derived_name,
    volume_host_path,
)

APP_IDS = st.from_regex(APP_ID_PATTERN, fullmatch=True)
# Parts are container names (units) or secret names; both patterns allow '-', '_' and more.
PARTS = st.from_regex(CONTAINER_NAME_PATTERN, fullmatch=True) | st.from_regex(
    NAME_PATTERN, fullmatch=True
)
# Ids and parts built from the pieces that made the old '-' names collide.
PIECES = st.sampled_from(["core", "lightning", "bitcoin", "rpc", "password", "x"])
JOINED_IDS = st.lists(PIECES, min_size=1, max_size=3).map("-".join)
JOINED_PARTS = st.lists(PIECES, min_size=1, max_size=3).map("-".join)


@given(APP_IDS | JOINED_IDS, PARTS | JOINED_PARTS, APP_IDS | JOINED_IDS, PARTS | JOINED_PARTS)
def test_two_different_pairs_never_derive_the_same_name(
    app_a: str, part_a: str, app_b: str, part_b: str
) -> None:
    if (app_a, part_a) != (app_b, part_b):
        assert derived_name(app_a, part_a) != derived_name(app_b, part_b)


@given(APP_IDS, PARTS)
def test_a_derived_name_reads_back_as_its_app_and_part(app_id: str, part: str) -> None:
    assert split_derived_name(derived_name(app_id, part)) == (app_id, part)


def test_units_and_secrets_use_the_one_naming() -> None:
    assert member_unit_name("core-lightning", "lightningd") == "archy-core-lightning_lightningd"
    assert podman_secret_name("bitcoin-core", "rpc") == "archy-bitcoin-core_rpc"
    assert app_data_dir("core", "/data") == "/data/core"
    assert split_derived_name(NETWORK_NAME) is None  # the shared network is no app's
    assert split_derived_name("archy-lnd") is None
    assert split_derived_name("other-lnd_x") is None
    assert split_derived_name("archy-_x") is None  # no app id
    assert split_derived_name("archy-lnd_") is None  # no part
    assert split_derived_name("archy-lnd_a_b") == ("lnd", "a_b")  # app ids hold no '_'


def test_a_volumes_host_dir_is_under_the_apps_dir_at_the_root_asked_for() -> None:
    assert volume_host_path("notes", "data", None) == "/var/lib/archipelago/notes/data"
    assert volume_host_path("notes", "data", None, "/srv/x") == "/srv/x/notes/data"
    assert volume_host_path("notes", "data", "/mnt/media/") == "/mnt/media"
    # relative (refused as P003) still names a dir of the app's own data dir, never the cwd
    assert volume_host_path("notes", "data", "rel/./dir") == "/var/lib/archipelago/notes/rel/dir"
    assert volume_host_path("notes", "data", "rel", "/srv/x") == "/srv/x/notes/rel"


def test_paths_are_normalised_to_one_leading_slash_and_relative_ones_stay_relative() -> None:
    assert normalise_path("//var/./lib/x/") == "/var/lib/x"  # POSIX keeps '//' at the start
    assert normalise_path("///var//lib") == "/var/lib"
    assert normalise_path("//X/y") == "/X/y"
    assert normalise_path("rel/./x/") == "rel/x"


def test_a_path_is_within_a_dir_only_below_a_slash_of_that_very_dir() -> None:
    assert path_is_within("/srv/a", "/srv/a") and path_is_within("/srv/a/b", "/srv/a")
    assert path_is_within("/srv/a/b", "/srv/a/") and path_is_within("/srv/a", "/")
    assert not path_is_within("/srv/ab", "/srv/a")
    assert not path_is_within("/srv/a/b", "/srv/aX")  # only '/' is taken off the dir
    assert not path_is_within("/srv/a/b", "/srv/a ")
    assert not path_is_within("/srv", "/srv/a")
