"""``archy ceremony status``: who signed each event, whether its threshold is met, what expires
when — a table for people, one JSON document with ``--json``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from pipeline.ceremony.event import CeremonyError, EventStatus, check_intact, event_status
from pipeline.ceremony.state import CeremonyState
from pipeline.commands.console import stdout
from pipeline.commands.keys import utc_now
from pipeline.commands.options import ceremony_dir_option, json_option
from pipeline.commands.refusing import refusing
from pipeline.tables import print_table, short_id
from signing.metadata_fields import format_expires


def _status_document(state: CeremonyState, status: EventStatus, now: datetime) -> dict[str, Any]:
    try:
        check_intact(status.event)
        intact = True
    except CeremonyError:
        intact = False
    record = status.event.record
    return {
        "event_id": record.event_id,
        "role": record.role,
        "version": record.version,
        "intact": intact,
        "expired": now >= record.expires,
        "event_expires": format_expires(record.expires),
        "metadata_expires": format_expires(status.event.metadata.signed.expires),
        "threshold_met": intact and status.threshold_met,
        "quorums": [
            {
                "role": q.quorum.label,
                "threshold": q.quorum.threshold,
                "signed_by": list(q.signed_by),
                "missing": list(q.missing),
            }
            for q in status.quorums
        ],
        "ignored_signatures": list(status.foreign_signatures),
    }


@click.command("status")
@ceremony_dir_option
@click.option("--event", "event_id", help="Only this event.")
@json_option(None)
@refusing(CeremonyError)
def status(ceremony_dir: Path, event_id: str | None, as_json: bool) -> None:
    """Who signed each event, whether its threshold is met, and what expires when."""
    state = CeremonyState(ceremony_dir)
    roots = state.roots()
    root = roots[-1].signed
    now = utc_now()
    event_ids = [event_id] if event_id else state.event_ids()
    documents = []
    for each in event_ids:
        event = state.load_event(each)
        # A root event already in effect is judged by the root it replaced, as when it was signed.
        judged_by = root
        if event.record.role == "root" and event.record.version <= root.version:
            judged_by = next(
                (r.signed for r in roots if r.signed.version == event.record.version - 1), root
            )
        document = _status_document(state, event_status(event, judged_by), now)
        document["in_effect"] = event.record.role == "root" and (
            event.record.version <= root.version
        )
        documents.append(document)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "root_version": root.version,
                    "root_expires": format_expires(root.expires),
                    "events": documents,
                },
                indent=2,
            )
        )
        return
    table = Table(title=f"Trusted root v{root.version}", title_justify="left")
    for column in ("role", "keys", "threshold"):
        table.add_column(column)
    for role_name, role in root.roles.items():
        table.add_row(
            role_name,
            ", ".join(short_id(k, 12, stdout) for k in role.keyids),
            str(role.threshold),
        )
    print_table(stdout, table)
    stdout.print(f"root v{root.version} expires {format_expires(root.expires)}", markup=False)
    events = Table(title="Signing events", title_justify="left")
    for column in ("event", "signatures", "threshold", "event expires", "metadata expires"):
        events.add_column(column)
    for document in documents:
        signatures = "; ".join(
            f"{q['role']}: {len(q['signed_by'])}/{q['threshold']}" for q in document["quorums"]
        )
        if not document["intact"]:
            verdict = "[red]altered[/red]"
        elif document["in_effect"]:
            verdict = "[green]in effect[/green]"
        elif document["threshold_met"]:
            verdict = "[green]met[/green]"
        elif document["expired"]:
            verdict = "[red]expired[/red]"
        else:
            verdict = "[yellow]not met[/yellow]"
        events.add_row(
            document["event_id"],
            signatures,
            verdict,
            document["event_expires"],
            document["metadata_expires"],
        )
    print_table(stdout, events)
