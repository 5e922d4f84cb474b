"""Reconcile: desired state + observed state -> an ordered plan of actions, for the whole node.

Pure.  No podman, no files: the caller observes (containers with their
labels, Podman secrets, the node's secret files, data dirs that exist) and
this module decides, per app, what must happen for the node to converge.
``node_runtime.apply`` executes the plan through an engine.

The rules (DESIGN §7, seed §2/§7) as they show up in a plan:

* **Refusals first.** An installed app the node cannot run (not in the
  catalog, unsupported architecture, a missing or mismatched dependency, a
  host port another app already uses, a manifest no engine can run) gets no
  actions and a one-line reason.  If an earlier version of it was applied,
  that version keeps being reconciled, so nothing else is disturbed.
* **Data** dirs are only ever *created* (with the owner their member's
  ``data_uid`` maps to); a plan never deletes or re-owns one.
* **Secrets**: a secret the node holds no file for and Podman holds no
  secret for is generated (once); a file without a Podman secret is handed
  to Podman again; nothing is ever regenerated.
* **Adoption**: a container with the member's name and the desired
  ``archy.config-hash`` label is kept (started if it is not running);
  a different hash means the member changed and only that member is
  replaced.  A container of that name without our labels is adopted only
  when the manifest lists it in ``migration.adopt``; otherwise the app is
  refused (the node never removes a container it did not create).
* **Order**: apps in dependency order; members in ``depends_on`` order, each
  started one followed by a health wait.
* **Zero writes when nothing changed**: an app whose containers all run with
  the desired hashes, whose dirs and secrets exist and whose applied record
  matches gets no actions at all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping, Sequence

from catalog.app_network import app_network
from catalog.catalog_model import AppCatalog, CatalogApp
from catalog.runtime_names import NETWORK_NAME
from catalog.secret_homes import secret_homes
from catalog.spec_problems import RuntimeSpecError
from node_runtime.plan.actions import AppPlan, CreateNetwork, Plan, RemoveNetwork, StartMember
from node_runtime.plan.app_plan import plan_app, plan_removal
from node_runtime.plan.desired import DesiredApp, app_data_dirs, desired_app
from node_runtime.plan.observed import ObservedState
from node_runtime.plan.resolve import dependency_order, resolve_desired
from node_runtime.store.applied import AppliedApp
from node_runtime.store.failures import FailedUpdate


def plan_reconcile(
    catalog: AppCatalog,
    installed: Collection[str],
    observed: ObservedState,
    applied: Mapping[str, AppliedApp],
    *,
    data_root: str,
    architecture: str,
    stopped: Collection[str] = (),
    failed_updates: Mapping[str, FailedUpdate] | None = None,
    only: Collection[str] | None = None,
) -> Plan:
    """Every app's plan, in dependency order, then removals; ``only`` limits it to some apps.

    An app whose last update failed (``failed_updates`` names the same
    manifest) is not retried: its applied version is reconciled instead, and
    the plan says why.  The same holds for a refused app that ran before.
    """
    failed_updates = failed_updates or {}
    accepted, refused = resolve_desired(
        catalog,
        installed,
        data_root=data_root,
        architecture=architecture,
        applied=applied,
        observed=observed,
    )
    plans: dict[str, AppPlan] = {}
    for app_id, desired in list(accepted.items()):
        failure = failed_updates.get(app_id)
        if failure is not None and failure.manifest_blake3 == desired.app.manifest_blake3:
            refused[app_id] = failure.reason
            del accepted[app_id]

    fallback: dict[str, DesiredApp] = {}
    for app_id, _reason in refused.items():
        previous = applied.get(app_id)
        if previous is not None and previous.data_root == data_root:
            with contextlib.suppress(RuntimeSpecError):
                fallback[app_id] = desired_app(previous.app, data_root)

    runnable = {**accepted, **fallback}
    for app_id in dependency_order(runnable):
        plan = plan_app(
            runnable[app_id],
            observed,
            applied.get(app_id),
            data_root=data_root,
            stopped=app_id in stopped,
        )
        if app_id in refused:
            plan = AppPlan(
                app_id,
                "refused",
                plan.actions,
                reason=refused[app_id],
                version=plan.version,
                target=plan.target,
            )
        plans[app_id] = plan
    for app_id in sorted(refused):
        if app_id not in plans:
            plans[app_id] = AppPlan(app_id, "refused", (), reason=refused[app_id])

    known = set(applied) | {c.app_id for c in observed.containers.values() if c.app_id}
    for app_id in sorted(known - set(installed)):
        plans[app_id] = plan_removal(app_id, observed, applied.get(app_id))

    needed = {
        action.spec.network
        for plan in plans.values()
        for action in plan.actions
        if isinstance(action, StartMember) and action.spec.network != "host"
    }
    network = tuple(CreateNetwork(name) for name in sorted(needed - observed.networks))
    # every network an installed app (runnable or refused) or a kept applied version names
    in_use = {spec.network for desired in runnable.values() for spec in desired.specs}
    in_use |= {app_network(catalog.apps[app_id]) for app_id in installed if app_id in catalog.apps}
    in_use |= {app_network(applied[app_id].app) for app_id in installed if app_id in applied}
    removals = tuple(
        RemoveNetwork(name)
        for name in sorted(observed.networks - in_use)
        if name != NETWORK_NAME  # archy-net stays
    )
    selected = [plan for plan in plans.values() if only is None or plan.app_id in only]
    return Plan(network, tuple(selected), removals)


def paths_to_observe(
    catalog: AppCatalog,
    installed: Collection[str],
    applied: Mapping[str, AppliedApp],
    data_root: str,
) -> tuple[set[str], set[str]]:
    """(data dirs, Podman secret names) whose existence the caller should observe."""
    dirs: set[str] = set()
    secrets: set[str] = set()
    sources: list[CatalogApp] = [catalog.apps[a] for a in installed if a in catalog.apps]
    sources += [each.app for each in applied.values()]
    for app in sources:
        try:
            desired = desired_app(app, data_root)
        except RuntimeSpecError:
            continue
        dirs.update(path for path, _ in app_data_dirs(desired, data_root))
        secrets.update(home.podman_name for home in secret_homes(app.manifest))
    return dirs, secrets


def describe_plan(plan: Plan) -> Sequence[str]:
    """One line per action, for ``apply --dry-run`` and logs (never a secret value)."""
    return plan.steps
