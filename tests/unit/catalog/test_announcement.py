"""The marketplace's event contents (catalog.announcement): the exact content and ``d`` tag a
developer publishes, read back the same, and the one line naming the field of a content
that is not what the protocol says."""

from __future__ import annotations

import json

import pytest

from catalog.announcement import (
    MAX_CONTENT_LENGTH,
    AnnouncementError,
    AppAnnouncement,
    Endorsement,
    Report,
    Revocation,
    RootPin,
    announcement_d_tag,
    parse_announcement,
    parse_endorsement,
    parse_report,
    parse_revocation,
)

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
BLAKE3 = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
SIGNATURE = "ab" * 64


def announcement() -> AppAnnouncement:
    return AppAnnouncement(
        registry="satoshi-apps",
        app="mempool-lite",
        version="1.2.0",
        revision=3,
        origins=["https://127.0.0.1/repo", "file:///srv/repo"],
        root=RootPin(version=2, blake3=BLAKE3),
        catalog_blake3=BLAKE3,
        did=DID,
        binding=SIGNATURE,
    )


ANNOUNCEMENT_CONTENT = (
    f'{{"app":"mempool-lite","binding":"{SIGNATURE}","catalog_blake3":"{BLAKE3}",'
    f'"did":"{DID}","origins":["https://127.0.0.1/repo","file:///srv/repo"],'
    f'"registry":"satoshi-apps","revision":3,"root":{{"blake3":"{BLAKE3}","version":2}},'
    '"type":"archy-app-announcement/1","version":"1.2.0"}'
)


def test_an_announcement_is_published_as_canonical_json_under_its_d_tag() -> None:
    published = announcement()
    assert published.d_tag() == "archy-app:satoshi-apps/mempool-lite"
    assert announcement_d_tag("satoshi-apps", "mempool-lite") == published.d_tag()
    assert published.content() == ANNOUNCEMENT_CONTENT
    assert parse_announcement(ANNOUNCEMENT_CONTENT) == published


def test_an_endorsement_a_report_and_a_revocation_are_published_the_same_way() -> None:
    endorsement = Endorsement(did=DID, app="mempool-lite")
    assert endorsement.d_tag() == f"archy-endorsement:{DID}/mempool-lite"
    assert endorsement.content() == (
        f'{{"app":"mempool-lite","did":"{DID}","type":"archy-endorsement/1"}}'
    )
    assert parse_endorsement(endorsement.content()) == endorsement

    report = Report(did=DID, app="mempool-lite", reason="mines on my CPU")
    assert report.d_tag() == f"archy-report:{DID}/mempool-lite"
    assert report.content() == (
        f'{{"app":"mempool-lite","did":"{DID}","reason":"mines on my CPU","type":"archy-report/1"}}'
    )
    assert parse_report(report.content()) == report

    revocation = Revocation(did=DID, reason="key leaked", signature=SIGNATURE)
    assert revocation.d_tag() == f"archy-revocation:{DID}"
    assert revocation.content() == (
        f'{{"did":"{DID}","reason":"key leaked","signature":"{SIGNATURE}",'
        '"type":"archy-revocation/1"}'
    )
    assert parse_revocation(revocation.content()) == revocation


def test_each_parser_reads_only_its_own_kind_of_content() -> None:
    endorsement = Endorsement(did=DID, app="mempool-lite").content()
    with pytest.raises(AnnouncementError) as raised:
        parse_report(endorsement)
    assert str(raised.value) == "type: Input should be 'archy-report/1'"
    with pytest.raises(AnnouncementError) as raised:
        parse_endorsement(ANNOUNCEMENT_CONTENT)
    assert str(raised.value) == "type: Input should be 'archy-endorsement/1'"
    with pytest.raises(AnnouncementError) as raised:
        parse_announcement(endorsement)
    assert str(raised.value) == "type: Input should be 'archy-app-announcement/1'"
    with pytest.raises(AnnouncementError) as raised:
        parse_revocation(endorsement)
    assert str(raised.value) == "type: Input should be 'archy-revocation/1'"


def _changed(**changes: object) -> str:
    document = json.loads(ANNOUNCEMENT_CONTENT)
    document.update(changes)
    return json.dumps(document)


@pytest.mark.parametrize(
    ("content", "refusal"),
    [
        ("{", "content is not JSON (Expecting property name enclosed in double quotes)"),
        ("", "content is not JSON (Expecting value)"),
        ("[1, 2]", "content is not a JSON object"),
        ('"archy"', "content is not a JSON object"),
        ("{}", "registry: Field required"),
        (_changed(root={"version": 0, "blake3": BLAKE3}), "root.version: Input should be "
         "greater than or equal to 1"),
        (_changed(origins=[]), "origins: List should have at least 1 item after validation, "
         "not 0"),
        (_changed(origins=["ftp://127.0.0.1/x"]), "origins.0: String should match pattern "
         "'^(https?|file)://[^\\s]+$'"),
        (_changed(revision="3"), "revision: Input should be a valid integer"),
        (_changed(extra=1), "extra: Extra inputs are not permitted"),
        (_changed(app="Mempool"), "app: String should match pattern '^[a-z][a-z0-9-]{1,39}$'"),
    ],
)  # fmt: skip
def test_a_malformed_announcement_is_refused_with_one_line_naming_the_field(
    content: str, refusal: str
) -> None:
    with pytest.raises(AnnouncementError) as raised:
        parse_announcement(content)
    assert str(raised.value) == refusal


def test_a_content_over_the_limit_is_refused_before_it_is_read() -> None:
    padded = ANNOUNCEMENT_CONTENT + " " * (MAX_CONTENT_LENGTH - len(ANNOUNCEMENT_CONTENT))
    assert len(padded) == MAX_CONTENT_LENGTH == 8192
    assert parse_announcement(padded) == announcement()  # exactly the limit is read
    with pytest.raises(AnnouncementError) as raised:
        parse_announcement(padded + " ")
    assert str(raised.value) == "content is longer than 8192 characters"
    with pytest.raises(AnnouncementError) as raised:
        parse_revocation("[" * 10_000)  # refused by its length, not by the JSON parser
    assert str(raised.value) == "content is longer than 8192 characters"
