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
    podman_secret_name,
    split_derived_name,
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
