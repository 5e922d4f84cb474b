"""The policy API as the CLI and CI use it: everything reported, in order, with its wording."""

from __future__ import annotations

import re
from pathlib import Path

from catalog.loader import ManifestSource
from pipeline.dependency_cycles import find_cycles
from pipeline.policy import check_all, check_app, check_app_set
from pipeline.policy_rules import RULES
from tests.unit.policy.cases import (
    CASES_DIR,
    DIGEST,
    all_cases,
    expected_in,
    load_case_file,
    manifest_text,
    seen,
    source_of,
)

DOCS = Path(__file__).parents[3] / "docs" / "policy.md"

MANY_VIOLATIONS = manifest_text(
    "crowded",
    f"""\
containers:
  - name: crowded-web
    image: docker.io/library/nginx:latest{DIGEST}  # expect P005 containers[0].image
    privileged: true  # expect P001 containers[0].privileged
    host_network: true  # expect P004 containers[0].host_network
    cap_add: [SYS_ADMIN]  # expect P011 containers[0].cap_add[0]
    devices: [/dev/kvm]  # expect P012 containers[0].devices[0]
    depends_on: [crowded-db]  # expect P010 containers[0].depends_on[0]
    env:
      DB_PASSWORD: {{secret: db-password}}  # expect P008 containers[0].env.DB_PASSWORD.secret
    ports:
      - container: 80
        host: 18080
    volumes:
      - name: engine
        path: /var/run/docker.sock  # expect P002 containers[0].volumes[0].path
      - name: certs
        path: /certs
        host_path: /etc/ssl  # expect P003 containers[0].volumes[1].host_path
  - name: crowded-db
    image: docker.io/library/postgres:16.4  # expect P015 containers[1].image
    data_uid: 999  # expect P017 containers[1].data_uid warning
    depends_on: [crowded-web]
    ports:
      - container: 18080  # expect P006 containers[1].ports[0].container
ui:
  container: crowded-web  # expect P014 ui.container warning
  port: 8080  # expect P014 ui.port
hooks:
  post_install:
    - copy_from_host:
        source: /root/.ssh/id_ed25519  # expect P013 hooks.post_install[0].copy_from_host.source
        container: crowded-web
        destination: /srv/key
""",
)


def test_a_manifest_with_many_violations_reports_every_one() -> None:
    source = source_of(MANY_VIOLATIONS, "apps/crowded/manifest.yml")
    problems = check_app(source, require_digests=True)
    assert seen(problems) == expected_in(MANY_VIOLATIONS, "apps/crowded/manifest.yml")
    assert len({problem.rule for problem in problems}) == 14


def test_problems_come_in_file_and_line_order() -> None:
    source = source_of(MANY_VIOLATIONS, "apps/crowded/manifest.yml")
    lines = [problem.line or 0 for problem in check_app(source)]
    assert lines == sorted(lines)


def test_the_user_reads_file_line_field_message_and_rule() -> None:
    source = load_case_file(CASES_DIR / "P003-fail-outside-data-dir.yml")
    first = str(check_app(source)[0])
    assert first.startswith(
        "cases/P003-fail-outside-data-dir.yml:19: containers[0].volumes[0].host_path: "
        "host path /etc/ssl is outside the app's data dir /var/lib/archipelago/demo/"
    )
    assert first.endswith("(P003)")


def test_unpinned_images_only_warn_during_development_and_refuse_when_publishing() -> None:
    source = load_case_file(CASES_DIR / "P015-fail.yml")
    assert [(p.rule, p.severity) for p in check_app(source)] == [("P015", "warning")]
    assert [(p.rule, p.severity) for p in check_app(source, require_digests=True)] == [
        ("P015", "error")
    ]


def _group(prefix: str) -> list[ManifestSource]:
    return [load_case_file(path) for path in sorted(CASES_DIR.glob(f"{prefix}*.yml"))]


def test_the_order_of_apps_does_not_change_the_report() -> None:
    apps = [source for case in all_cases() for source in case.sources()]
    assert check_all(apps) == check_all(list(reversed(apps)))


def test_check_app_set_holds_only_the_cross_app_rules_and_check_all_holds_both() -> None:
    apps = [*_group("P006-fail-crossapp"), load_case_file(CASES_DIR / "P001-fail.yml")]
    cross = check_app_set(apps)
    assert {problem.rule for problem in cross} == {"P006"}
    everything = check_all(apps)
    assert {problem.rule for problem in everything} == {"P001", "P006"}
    for problem in cross:
        assert problem in everything


def test_a_port_clash_names_the_other_app_and_its_file() -> None:
    problems = check_app_set(_group("P006-fail-crossapp"))
    alpha = next(p for p in problems if p.file.endswith("-a.yml"))
    assert "host port 18080/tcp is also published by 'beta'" in alpha.message
    assert "(cases/P006-fail-crossapp-b.yml:17)" in alpha.message


def test_a_cycle_through_a_capability_is_reported_with_its_path() -> None:
    electrs = manifest_text(
        "electrs",
        f"requires:\n  - app: bitcoin\ncontainers:\n  - name: electrs\n"
        f"    image: example/electrs:0.10.6{DIGEST}\n",
    )
    knots = manifest_text(
        "bitcoin-knots",
        f"provides: [bitcoin]\nrequires:\n  - app: electrs\ncontainers:\n"
        f"  - name: bitcoin-knots\n    image: example/knots:28.1{DIGEST}\n",
    )
    problems = check_app_set(
        [source_of(electrs, "electrs.yml"), source_of(knots, "bitcoin-knots.yml")]
    )
    assert [(p.file, p.line, p.field, p.rule) for p in problems] == [
        ("bitcoin-knots.yml", 15, "requires[0]", "P010")
    ]
    assert "bitcoin-knots -> electrs -> bitcoin-knots" in problems[0].message


def test_a_requirement_met_by_one_of_several_providers_passes() -> None:
    assert check_all(_group("P009-pass-crossapp"), require_digests=True) == []


def test_providers_that_each_miss_part_of_a_requirement_do_not_meet_it() -> None:
    def bitcoin(app_id: str, version: str, txindex: str) -> ManifestSource:
        text = manifest_text(
            app_id,
            f"provides: [bitcoin]\nsettings: {{txindex: {txindex}}}\ncontainers:\n"
            f"  - name: {app_id}\n    image: example/{app_id}:1.0{DIGEST}\n",
            version=version,
        )
        return source_of(text, f"{app_id}.yml")

    electrs = manifest_text(
        "electrs",
        "requires:\n  - app: bitcoin\n    version: '>=29'\n    settings: {txindex: true}\n"
        f"containers:\n  - name: electrs\n    image: example/electrs:0.10.6{DIGEST}\n",
    )
    problems = check_app_set(
        [
            source_of(electrs, "electrs.yml"),
            bitcoin("bitcoin-core", "28.1", "true"),
            bitcoin("bitcoin-knots", "29.1", "false"),
        ]
    )
    assert [(p.file, p.line, p.field, p.rule) for p in problems] == [
        ("electrs.yml", 14, "requires[0]", "P009")
    ]
    assert "no single provider of 'bitcoin' meets the whole requirement" in problems[0].message


def test_a_version_that_is_not_pep_440_is_explained() -> None:
    (problem,) = check_app_set(_group("P009-fail-crossapp-not-pep440"))
    assert "'28.1.knots20250305', which is not a PEP 440 version" in problem.message


def test_find_cycles_reports_one_cycle_per_tangle_from_the_first_node() -> None:
    graph = {"web": ["api"], "api": ["db", "web"], "db": ["db"], "cache": ["web"]}
    assert find_cycles(graph) == [["web", "api", "web"], ["db", "db"]]
    assert find_cycles({"a": ["b"], "b": ["c"], "c": []}) == []


def test_a_parent_of_the_engine_sockets_is_refused_even_when_granted() -> None:
    source = load_case_file(CASES_DIR / "P002-fail-parent-of-sockets.yml")
    messages = [p.message for p in check_app(source)]
    assert messages[0].startswith("mounts /run, which holds /run/podman")


def test_the_docs_table_lists_every_rule_once() -> None:
    text = DOCS.read_text(encoding="utf-8")
    listed = re.findall(r"^\| (P\d{3}) \|", text, flags=re.MULTILINE)
    assert listed == sorted(RULES)
