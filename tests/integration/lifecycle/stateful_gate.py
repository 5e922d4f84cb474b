"""The gate's stateful app (gate-db: PostgreSQL, Redis, a migrating web member), checked
with real queries around every step.

For gate-db, :class:`StatefulGateRun` wraps each step of :mod:`.gate`:

* before it, while the database runs: one row is written (``items``) and one key is
  set in Redis, and a ``pg_dump`` is taken;
* after it, while the database runs: every row written so far is read back
  (``COPY … TO STDOUT``, compared byte for byte), every key too, the ``pg_dump`` is
  byte-identical to the one taken before (or before ``stop``), and the web member's
  ``/cgi-bin/status`` reports the schema version, the row count and the key count;
* after ``install`` (a fresh database each round, so the previous round's ``purge``
  removed everything): no rows, schema ``001``;
* after ``uninstall``: the data dir is started in a throwaway container of the same
  image and its ``pg_dump`` is byte-identical to the one taken before;

and adds two steps after ``reboot``:

* **update**: release 1.0.0-r2 (web image ``:2``) is published and applied; its web
  member migrates the schema before it serves (``002_items_checksum``: a new column,
  backfilled for every row, then required); the rows read back byte-identical in their
  original columns and every checksum is right;
* **bad-update**: release 1.0.0-r3 (web image ``:3``, whose migration fails) is
  published and applied: the apply refuses (exit 1, no traceback), says it rolled back
  to 1.0.0-r2, the web member runs image ``:2`` again and the ``pg_dump`` is
  byte-identical; then the registry withdraws r3 (r2 is published again) and an apply
  has nothing to do.

After ``purge`` (or a failed step) release 1 is published again for the next round.
"""

from __future__ import annotations

import difflib
import http.client
import secrets
from collections.abc import Callable
from typing import Any

from catalog.catalog_model import AppCatalog
from catalog.manifest import Manifest
from tests.integration.lifecycle.gate import GateRun, StepFailed, tree_digest
from tests.realparts.stateful_image import BASE_IMAGE, WEB_IMAGE
from tests.support.catalogs import catalog_of

STATEFUL_APP = "gate-db"
POSTGRES = "gate-db-postgres"
REDIS = "gate-db-redis"
WEB = "gate-db-web"
UPDATE_STEPS = ("update", "bad-update")
ENGINE_SLOW_RETRIES = 3
# Steps after which the app runs (its data is read back through the database).
RUNNING_AFTER = ("install", "ui", "start", "restart", "reinstall", "reboot", *UPDATE_STEPS,
                 "agent-restart")  # fmt: skip
# psql quotes the variables (:'name'): the SQL text itself is constant.
INSERT = "INSERT INTO items (step, note) VALUES (:'step', :'note');\n"
INSERT_MIGRATED = (
    "INSERT INTO items (step, note, checksum) "
    "VALUES (:'step', :'note', md5(:'step' || ':' || :'note'));\n"
)
SETVAL = "SELECT pg_catalog.setval("
ROWS_SQL = "COPY (SELECT id, step, note FROM items ORDER BY id) TO STDOUT"
PSQL = ["psql", "-X", "-q", "-h", "/tmp", "-U", "archy", "-d", "postgres", "-v", "ON_ERROR_STOP=1"]
# pg_dump 15.14+ brackets a dump with \restrict KEY, a random KEY unless one is given.
PG_DUMP = ["pg_dump", "--restrict-key=archygate", "-h", "/tmp", "-U", "archy", "postgres"]
# A dump of a stopped app's data dir: the same image, the same user, the data dir mounted.
OFFLINE_DUMP = (
    "pg_ctl -D /data/pg -s -w -o '-k /tmp -c listen_addresses=' start >/dev/null"
    " && pg_dump --restrict-key=archygate -h /tmp -U archy postgres; status=$?;"
    " pg_ctl -D /data/pg -s -w -m fast stop >/dev/null; exit $status"
)


def sequence_values(dump: str) -> dict[str, int]:
    """``setval`` lines of a dump: sequence name -> last value."""
    values = {}
    for line in dump.splitlines():
        if line.startswith(SETVAL):
            name, value = line[len(SETVAL) :].split(",")[:2]
            values[name] = int(value)
    return values


def expect_same_dump(before: str, after: str, *, crashed: bool = False) -> None:
    """``after`` is byte-identical to ``before``.  After a crash, PostgreSQL's sequences
    may have moved on (it logs 32 values ahead, so recovery resumes past the last one
    used): there their lines may differ, never backwards, and every other byte is equal."""
    if crashed:
        was, now = sequence_values(before), sequence_values(after)
        if set(was) != set(now) or any(now[name] < was[name] for name in was):
            raise StepFailed(f"sequences went back across the crash: {was} -> {now}")
        before = "\n".join(x for x in before.splitlines() if not x.startswith(SETVAL))
        after = "\n".join(x for x in after.splitlines() if not x.startswith(SETVAL))
    if before != after:
        diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        raise StepFailed("the pg_dump differs from the one taken before the step: "
                         + " | ".join(list(diff)[2:8]))  # fmt: skip


def release_catalog(base: AppCatalog, release: int) -> AppCatalog:
    """``base`` with gate-db at revision ``release``, its web member on image ``:release``."""
    manifests = []
    for app in base.apps.values():
        manifest = app.manifest
        if manifest.id == STATEFUL_APP:
            document: dict[str, Any] = manifest.to_document()
            document["revision"] = release
            for member in document["containers"]:
                if member["name"] == WEB:
                    member["image"] = WEB_IMAGE.format(release=release)
            manifest = Manifest.model_validate(document)
        manifests.append(manifest)
    return catalog_of(manifests)


class StatefulGateRun(GateRun):
    """:class:`GateRun` plus gate-db's queries and its two update steps."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_catalog = self.catalog

    # -- which steps, and each wrapped ----------------------------------------------------------

    def has_step(self, app_id: str, step: str) -> bool:
        return app_id == STATEFUL_APP or super().has_step(app_id, step)

    def step_action(self, app_id: str, step: str) -> Callable[[str, dict[str, object]], None]:
        action = super().step_action(app_id, step)
        if app_id != STATEFUL_APP:
            return action

        def checked(app_id: str, memory: dict[str, object]) -> None:
            self.before_step(step, memory)
            action(app_id, memory)
            self.after_step(app_id, step, memory)

        return checked

    def fingerprint(self, app_id: str) -> tuple[str, str]:
        if app_id != STATEFUL_APP:
            return super().fingerprint(app_id)
        # PostgreSQL rewrites its files as it runs: its data is compared through pg_dump.
        return "checked by pg_dump", tree_digest(self.secrets_dir(app_id))

    def cleanup(self, app_id: str) -> None:
        super().cleanup(app_id)
        if app_id == STATEFUL_APP:
            self.publish(self.base_catalog)

    # -- the database -------------------------------------------------------------------------

    def exec_in(self, container: str, argv: list[str]) -> str:
        result = self.podman.run("exec", container, *argv, check=False)
        if result.returncode != 0:
            raise StepFailed(f"{' '.join(argv[:1])} in {container} exited "
                             f"{result.returncode}: {result.stderr.strip()[-300:]}")  # fmt: skip
        return str(result.stdout)

    def sql(self, statement: str) -> str:
        return self.exec_in(POSTGRES, [*PSQL, "-At", "-c", statement])

    def dump(self) -> str:
        return self.exec_in(POSTGRES, PG_DUMP)

    def offline_dump(self, app_id: str) -> str:
        """pg_dump of the stopped app's data dir, from a throwaway container."""
        data = self.data_dir(app_id) / "pg"
        result = self.podman.run(
            "run", "--rm", "--user", "1000:1000", "--network", "none",
            "-v", f"{data}:/data", BASE_IMAGE, "/bin/sh", "-c", OFFLINE_DUMP, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise StepFailed(f"the kept data dir does not start: {result.stderr.strip()[-300:]}")
        return str(result.stdout)

    def schema_version(self) -> str:
        return self.sql("SELECT max(version) FROM schema_migrations").strip()

    def database_running(self) -> bool:
        return self.running(POSTGRES) and self.running(REDIS)

    def write_row(self, step: str, memory: dict[str, object]) -> None:
        note = f"before {step}: {secrets.token_hex(8)} ünïcode €, 'quotes' \\ tab\t."
        insert = INSERT_MIGRATED if self.schema_version() >= "002" else INSERT
        variables = [f"--variable=step={step}", f"--variable=note={note}"]
        result = self.podman.run("exec", "-i", POSTGRES, *PSQL, *variables, input=insert,
                                 check=False)  # fmt: skip
        if result.returncode != 0:
            raise StepFailed(f"INSERT exited {result.returncode}: {result.stderr.strip()[-300:]}")
        key = f"gate:{step}"
        self.exec_in(REDIS, ["redis-cli", "SET", key, note])
        keys: dict[str, str] = memory.setdefault("keys", {})  # type: ignore[assignment]
        keys[key] = note

    def expect_data(self, memory: dict[str, object], *, dump: bool, crashed: bool = False) -> None:
        rows = self.exec_in(POSTGRES, [*PSQL, "-c", ROWS_SQL])
        if "rows" in memory and rows != memory["rows"]:
            raise StepFailed(f"rows differ: before {memory['rows']!r}, after {rows!r}")
        if dump and "dump" in memory:
            expect_same_dump(str(memory["dump"]), self.dump(), crashed=crashed)
        keys: dict[str, str] = memory.get("keys", {})  # type: ignore[assignment]
        for key, note in keys.items():
            got = self.exec_in(REDIS, ["redis-cli", "--raw", "GET", key]).removesuffix("\n")
            if got != note:
                raise StepFailed(f"redis key {key}: {got!r}, expected {note!r}")

    def expect_status_page(self, app_id: str, version: str, memory: dict[str, object]) -> None:
        """The web member's view: schema version, row count, key count."""
        port = self.host_ports(app_id)[0]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", "/cgi-bin/status")
            response = connection.getresponse()
            body = response.read().decode()
        finally:
            connection.close()
        if response.status != 200:
            raise StepFailed(f"/cgi-bin/status answered {response.status}: {body[:200]}")
        rows = str(memory.get("rows", "")).count("\n")
        keys = len(memory.get("keys", {}))  # type: ignore[arg-type]
        if body.split() != [version, str(rows), str(keys)]:
            raise StepFailed(f"status page says {body.split()}, expected {[version, rows, keys]}")

    # -- around every step ----------------------------------------------------------------------

    def before_step(self, step: str, memory: dict[str, object]) -> None:
        if step in ("install", "purge") or not self.database_running():
            return
        self.write_row(step, memory)
        memory["rows"] = self.exec_in(POSTGRES, [*PSQL, "-c", ROWS_SQL])
        memory["dump"] = self.dump()

    def after_step(self, app_id: str, step: str, memory: dict[str, object]) -> None:
        if step == "install":
            if self.sql("SELECT count(*) FROM items").strip() != "0":
                raise StepFailed("a fresh install found rows: purge did not remove them")
            memory["rows"], memory["dump"] = "", self.dump()
        if step == "uninstall":
            expect_same_dump(str(memory["dump"]), self.offline_dump(app_id))
        if step == "purge":
            self.publish(self.base_catalog)
        if step not in RUNNING_AFTER:
            return
        self.expect_data(memory, dump=step != "update", crashed=step == "reboot")
        version = "001_items" if self.catalog is self.base_catalog else "002_items_checksum"
        self.expect_status_page(app_id, version, memory)

    # -- the update steps -----------------------------------------------------------------------

    def publish(self, catalog: AppCatalog) -> None:
        self.agent.publish(catalog)
        self.catalog = catalog

    def apply_release(self, app_id: str, release: int) -> tuple[int, dict[str, Any]]:
        """Publish gate-db's release ``release`` and apply it.  An apply that found the
        engine too slow changed nothing and says so; like the daemon, try again."""
        self.publish(release_catalog(self.base_catalog, release))
        for _ in range(ENGINE_SLOW_RETRIES):
            rc, document = self.agent.apply()
            if not document.get("engine_slow"):
                break
        return rc, document

    def result_of(self, app_id: str, document: dict[str, Any]) -> dict[str, Any]:
        apps = {a["app"]: a for a in document.get("apps", [])}
        return dict(apps.get(app_id) or {})

    def step_update(self, app_id: str, memory: dict[str, object]) -> None:
        rc, document = self.apply_release(app_id, 2)
        self.expect_ok(app_id, rc, document, "ok")
        result = self.result_of(app_id, document)
        if result.get("change") != "update" or result.get("version") != "1.0.0-r2":
            raise StepFailed(f"not an update to 1.0.0-r2: {result}")
        self.expect_running(app_id)
        self.expect_ui(app_id)
        if self.schema_version() != "002_items_checksum":
            raise StepFailed(f"schema after the update: {self.schema_version()}")
        wrong = self.sql("SELECT count(*) FROM items WHERE checksum <> md5(step || ':' || note)")
        if wrong.strip() != "0":
            raise StepFailed(f"{wrong.strip()} rows have a wrong checksum after the migration")
        self.expect_data(memory, dump=False)  # the original columns, byte for byte
        memory["dump"] = self.dump()  # the migrated schema is the new baseline

    def step_bad_update(self, app_id: str, memory: dict[str, object]) -> None:
        rc, document = self.apply_release(app_id, 3)
        result = self.result_of(app_id, document)
        reason = str(result.get("reason") or "")
        if rc != 1 or result.get("status") != "failed" or "rolled back to 1.0.0-r2" not in reason:
            raise StepFailed(
                f"the broken release was not rolled back: exit {rc}, status "
                f"{result.get('status')!r}, reason: {reason or document}"
            )
        if "Traceback" in str(document.get("stderr", "")):
            raise StepFailed(f"a traceback: {document['stderr'][-500:]}")
        image = self.podman.inspect_field(WEB, "{{.ImageName}}")
        if image != WEB_IMAGE.format(release=2):
            raise StepFailed(f"after the rollback {WEB} runs {image}")
        columns = self.sql("SELECT column_name FROM information_schema.columns "
                           "WHERE table_name = 'items' ORDER BY ordinal_position")  # fmt: skip
        if "archived" in columns.split():
            raise StepFailed("the failed migration left its column behind")
        # The registry withdraws the broken release: r2 again, and nothing to do.
        rc, document = self.apply_release(app_id, 2)
        self.expect_ok(app_id, rc, document, "unchanged")
        self.expect_running(app_id)
        self.expect_ui(app_id)
