"""Reports and alerts (Superset's Alerts & Reports) managed like every other asset, through /api/v1/report/.

Superset's asset import carries no reports, so they are planned and sent
here, one REST request each, after the import made the dashboards, charts
and databases they show and query:

- a schedule is northstar's when its `extra.northstar` names a project; the
  deploy matches its own by `extra.northstar.key`, never by name;
- create what is missing, update (PUT, the whole body) what differs field by
  field from the spec (a crontab or recipient edited in Superset is restored,
  and listed), leave the rest alone: an unchanged redeploy sends nothing and
  Superset's `changed_on` stays;
- a report of the same name and type that is not this project's is a clash:
  the deploy refuses, naming its holder, because Superset keeps names unique;
- with --prune, delete the project's schedules the specs no longer make,
  nothing else;
- Alerts & Reports off (the routes answer 404): a note saying which flag to
  set, and the rest of the deploy goes on.

Webhook URLs (they often carry a secret) are shown as the environment
variable they came from, never as themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from superset_plugin.compiler.rituals import Schedule
from superset_plugin.deploy.client import NotFound, SupersetClient, SupersetError
from superset_plugin.deploy.live import Difference, LiveState
from superset_plugin.deploy.plan import Options, Plan, Step

#: Plan step kinds: a report is a ritual, an alert a guardrail.
KINDS = {"Report": "reports", "Alert": "alerts"}
#: The body fields Superset answers with under another name (show_columns: `dashboard.id`, …).
_REFS = ("dashboard", "chart", "database")
_LIST_COLUMNS = ["id", "name", "type", "extra", "changed_on", "crontab", "timezone", "active"]
DISABLED = (
    "Alerts & Reports is off on this Superset (/api/v1/report/ answers 404), so the {count} reports and alerts "
    'of the rituals were not deployed: set FEATURE_FLAGS = {{"ALERT_REPORTS": True}} in superset_config.py, '
    "run a Celery worker and beat (README: Alerts & Reports), and deploy again"
)
Progress = Callable[[str], None]


@dataclass
class LiveSchedules:
    """The reports and alerts Superset holds; None rows: Alerts & Reports is off."""

    rows: list[dict] | None
    #: id -> the full record (show), for the project's own schedules.
    details: dict[int, dict] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.rows is not None


def marker_of(row: dict) -> dict:
    extra = _loads(row.get("extra"))
    mark = extra.get("northstar") if isinstance(extra, dict) else None
    return mark if isinstance(mark, dict) else {}


def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except ValueError:
            return value
    return value


def fetch(client: SupersetClient, project: str) -> LiveSchedules:
    """Every report and alert (the list), and the whole record of this project's."""
    try:
        rows = client.list_all("report", {"columns": _LIST_COLUMNS})
    except NotFound:
        return LiveSchedules(None)
    live = LiveSchedules(rows)
    for row in rows:
        if marker_of(row).get("project") == project:
            live.details[row["id"]] = client.get(f"/api/v1/report/{int(row['id'])}")["result"]
    return live


def live_fields(record: dict) -> dict:
    """A show record in the shape of a request body, refs as ids."""
    fields = {key: value for key, value in record.items() if key not in (*_REFS, "owners", "id")}
    for ref in _REFS:
        fields[ref] = (record.get(ref) or {}).get("id")
    fields["recipients"] = [
        {"type": r.get("type"), "recipient_config_json": _loads(r.get("recipient_config_json")) or {}}
        for r in record.get("recipients") or []
    ]
    fields["validator_config_json"] = _loads(record.get("validator_config_json"))
    fields["extra"] = _loads(record.get("extra"))
    return fields


def wanted(schedule: Schedule, ids: dict[str, int]) -> dict:
    """The request body with its refs resolved to ids (None: the asset is not in Superset yet)."""
    return {**schedule.body, **{ref: ids.get(uuid) for ref, uuid in schedule.refs.items()}}


def differences(schedule: Schedule, body: dict, live: dict) -> list[Difference]:
    found = []
    for key, value in body.items():
        current = live.get(key)
        if key in _REFS and value is None:
            continue  # created by this deploy's import: its id is not known before it
        if key == "recipients":
            same = _recipient_set(value) == _recipient_set(current or [])
        elif isinstance(value, (int, float)) and isinstance(current, (int, float)) and not isinstance(value, bool):
            same = float(value) == float(current)
        elif key == "validator_config_json" and isinstance(current, dict):
            same = value.get("op") == current.get("op") and float(value["threshold"]) == float(
                current.get("threshold", "nan")
            )
        else:
            same = value == current
        if not same:
            found.append(Difference(key, _masked(value, schedule.masks), _masked(current, schedule.masks)))
    return found


def _recipient_set(recipients: Iterable[dict]) -> set[tuple[str, str]]:
    found = set()
    for r in recipients:
        config = r.get("recipient_config_json") or {}
        for target in str(config.get("target") or "").replace(";", ",").split(","):
            if target.strip():
                found.add((str(r.get("type")), target.strip().lower()))
    return found


def _masked(value: Any, masks: dict[str, str]) -> Any:
    if not masks:
        return value
    text = json.dumps(value, default=str)
    for secret, shown in masks.items():
        text = text.replace(secret, shown)
    return json.loads(text)


def resolve(
    client: SupersetClient, state: LiveState, schedules: Sequence[Schedule], *, look_up: bool = True
) -> dict[str, int]:
    """uuid -> id of every dashboard, chart and database the schedules name, as Superset has them now.

    Everything they name is an asset of the bundle, so `state` knows the ones that exist before the
    import; `look_up` asks Superset for the rest (after the import made them).
    """
    ids = {uuid: asset.id for uuid, asset in state.assets.items()}
    ids.update({row["uuid"]: row["id"] for row in state.databases if row.get("uuid")})
    if not look_up:
        return ids
    for schedule in schedules:
        for ref, uuid in schedule.refs.items():
            if uuid in ids:
                continue
            if ref == "database":
                rows = client.list_all(
                    "database", {"filters": [{"col": "uuid", "opr": "eq", "value": uuid}], "columns": ["id", "uuid"]}
                )
                if rows:
                    ids[uuid] = rows[0]["id"]
            else:
                found = client.find_by_uuid(ref, uuid)
                if found:
                    ids[uuid] = found["id"]
    return ids


def plan(
    schedules: Sequence[Schedule], live: LiveSchedules, ids: dict[str, int], project: str, options: Options, into: Plan
) -> None:
    """Add a step per schedule (and, with prune, per schedule gone from the specs) to the plan."""
    if not live.enabled:
        if schedules:
            into.notes.append(DISABLED.format(count=len(schedules)))
        return
    assert live.rows is not None
    ours = {marker_of(r).get("key"): r for r in live.rows if marker_of(r).get("project") == project}
    for schedule in schedules:
        kind = KINDS[schedule.type]
        row = ours.get(schedule.key)
        holder = next(
            (
                r
                for r in live.rows
                if (r.get("name"), r.get("type")) == (schedule.name, schedule.type) and (row is None or r is not row)
            ),
            None,
        )
        if holder is not None:
            into.refusals.append(_clash(schedule, holder))
            continue
        if row is None:
            into.steps.append(Step(kind, schedule.key, schedule.name, "create"))
            continue
        diffs = differences(schedule, wanted(schedule, ids), live_fields(live.details[row["id"]]))
        if diffs or options.force:
            why = (f"{len(diffs)} field(s) differ from the spec: {', '.join(d.field for d in diffs)}",) if diffs else ()
            into.steps.append(
                Step(
                    kind,
                    schedule.key,
                    schedule.name,
                    "update",
                    id=row["id"],
                    why=why or ("--force",),
                    restores=tuple(diffs),
                )
            )
            if diffs and options.no_overwrite:
                into.refusals.append(
                    f"{kind[:-1]} {schedule.name!r} (id {row['id']}) differs from the spec "
                    f"({', '.join(d.field for d in diffs)}) and --no-overwrite is set"
                )
        else:
            into.steps.append(Step(kind, schedule.key, schedule.name, "unchanged", id=row["id"]))
    keys = {s.key for s in schedules}
    products = {s.key.split("/")[0] for s in schedules}
    for key, row in sorted(ours.items(), key=lambda item: str(item[0])):
        if key in keys:
            continue
        if not options.whole_project and str(key).split("/")[0] not in products:
            continue  # a spec this deploy does not cover makes it
        kind = KINDS.get(row.get("type", ""), "reports")
        if options.prune and options.whole_project:
            into.steps.append(
                Step(kind, str(key), row["name"], "delete", id=row["id"], why=("the specs no longer make it",))
            )
        else:
            into.steps.append(
                Step(
                    kind,
                    str(key),
                    row["name"],
                    "keep",
                    id=row["id"],
                    why=("the specs no longer make it; --prune deletes it",),
                )
            )


def _clash(schedule: Schedule, row: dict) -> str:
    holder = marker_of(row).get("project")
    who = f"belongs to project {holder!r}" if holder else "is not managed by northstar"
    return (
        f"{schedule.type.lower()} {row.get('name')!r} (id {row.get('id')}) already exists and {who}; Superset keeps "
        "report names unique, so northstar cannot make its own: rename or delete that one in Superset"
    )


def apply(
    client: SupersetClient,
    schedules: Sequence[Schedule],
    into: Plan,
    ids: dict[str, int],
    progress: Progress = lambda message: None,
) -> dict[str, int]:
    """Carry out the plan's report and alert steps: {action: how many were sent}."""
    by_key = {s.key: s for s in schedules}
    done = {"create": 0, "update": 0, "delete": 0}
    for step in into.steps:
        if step.kind not in KINDS.values():
            continue
        if step.action == "delete" and step.id is not None:
            try:
                client.delete(f"/api/v1/report/{int(step.id)}")
            except NotFound:
                continue
            done["delete"] += 1
        elif step.action in ("create", "update"):
            schedule = by_key[step.uuid]
            body = wanted(schedule, ids)
            missing = [ref for ref in schedule.refs if body.get(ref) is None]
            if missing:
                raise NotFound(
                    f"{schedule.type.lower()} {schedule.name!r}: its {', '.join(missing)} is not in Superset after the "
                    "import",
                    method="POST",
                    path="/api/v1/report/",
                )
            if step.action == "create":
                try:
                    client.post("/api/v1/report/", json=body)
                except SupersetError as exc:
                    if exc.status == 422 and _made_meanwhile(client, schedule):
                        continue  # a concurrent deploy of this project made the very same one
                    raise
            else:
                client.put(f"/api/v1/report/{int(step.id or 0)}", json=body)
            done[step.action] += 1
    if any(done.values()):
        progress(f"reports and alerts: {done['create']} created, {done['update']} updated, {done['delete']} deleted")
    return done


def _made_meanwhile(client: SupersetClient, schedule: Schedule) -> bool:
    """Whether the name a create was refused for is now held by this project's schedule of the same key."""
    rows = client.list_all(
        "report", {"filters": [{"col": "name", "opr": "eq", "value": schedule.name}], "columns": _LIST_COLUMNS}
    )
    mark = schedule.body["extra"]["northstar"]
    return any(marker_of(r) == mark and r.get("type") == schedule.type for r in rows)


def summary(into: Plan) -> str:
    steps = [s for s in into.steps if s.kind in KINDS.values()]
    return ", ".join(f"{sum(s.action == a for s in steps)} {a}" for a in ("create", "update", "unchanged", "delete"))
