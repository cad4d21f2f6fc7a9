"""Salesforce Omnichannel Inventory (OCI) reservation requests in canonical terms: reservations
created, released, fulfilled and transferred through the process API.

OCI names a reservation by its externalRefId (and each action by its actionRequestId); the
process API by its own id. The ids of the reservations made for an externalRefId are kept in
Redis (`sf:oci:ref:{externalRefId}`), so releases and fulfilments find them.

Mappings the process API shapes:
- a fulfilment completes a whole reservation (the process API then holds its units until SAP's
  goods issue arrives). Fulfilment records that do not cover everything a reservation still holds
  are refused per record (PARTIAL_FULFILLMENT_UNSUPPORTED): release the units that will not ship,
  then fulfil the rest;
- a transfer is a new reservation at the target (same externalRefId, channel and remaining
  lifetime) and then a release at the source, each step keyed by the actionRequestId: when the
  target is short nothing changes (INSUFFICIENT_STOCK), and a repeat never applies either twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from process_apis.inventory.contract import InventoryClient
from shared.errors import Problem, problem_type

REF_RETENTION_SECONDS = 7 * 86400
LIVE = ("active", "fulfilled")
#: Process-API refusals that are an answer to Salesforce (success false), not an outage.
REFUSALS = (404, 409, 422)
#: The process API's 409 for an Idempotency-Key whose first request is still running: not a refusal.
IN_FLIGHT = problem_type("idempotency-key-in-flight")
#: Seconds a caller waits before repeating an action that is still in flight.
IN_FLIGHT_RETRY_AFTER = "1"


def refused(problem: Problem, action_id: str) -> bool:
    """Whether the process API's problem is a refusal to answer Salesforce with (success false).

    A 409 "still in flight" is not: the first request with this actionRequestId is still running
    (a concurrent repeat), and answering "failed" would be stored as the action's answer while the
    first request holds stock. It becomes a 503 with Retry-After; the caller repeats the same
    actionRequestId and gets the first request's answer."""
    if problem.type == IN_FLIGHT:
        raise Problem(
            503,
            f"actionRequestId {action_id} is still being processed; repeat it shortly",
            type_slug="action-in-flight",
            headers={"Retry-After": IN_FLIGHT_RETRY_AFTER},
            actionRequestId=action_id,
        )
    return problem.status in REFUSALS


def error_code(problem: Problem) -> str:
    """`https://…/problems/insufficient-stock` → INSUFFICIENT_STOCK, in OCI's style of code."""
    return problem.type.rsplit("/", 1)[-1].upper().replace("-", "_")


def _place(record: dict) -> dict:
    """The OCI location member of a record: {locationIdentifier} or {locationGroupIdentifier}."""
    if record.get("locationIdentifier") is not None:
        return {"locationIdentifier": record["locationIdentifier"]}
    return {"locationGroupIdentifier": record["locationGroupIdentifier"]}


def _canonical_place(record: dict, *, target: bool = False) -> dict:
    """The record's place (or with `target`, a transfer's destination) as the process API names it."""
    location, group = (
        ("toLocationIdentifier", "toLocationGroupIdentifier")
        if target
        else ("locationIdentifier", "locationGroupIdentifier")
    )
    return {"location": record[location]} if record.get(location) is not None else {"location_group": record[group]}


class Reservations:
    """OCI's reservation actions against the process API, each exactly once per actionRequestId."""

    def __init__(self, *, inventory: InventoryClient, actions, redis, channel: str) -> None:
        self.inventory, self.actions, self.redis, self.channel = inventory, actions, redis, channel

    # create ----------------------------------------------------------------------------------
    def create(self, request: dict) -> dict:
        action_id = request["actionRequestId"]

        def plan() -> dict:
            return {
                "channel": self.channel,
                "external_ref": request["externalRefId"] or action_id,
                "ttl_seconds": request["expirationSeconds"],
                "allow_partial": request["allowPartialReservations"],
                "lines": [
                    {"sku": record["stockKeepingUnit"], **_canonical_place(record), "quantity": record["quantity"]}
                    for record in request["createRecords"]
                ],
            }

        def execute(body: dict) -> dict:
            try:
                reservation = self.inventory.reserve(body, idempotency_key=f"sf-oci:reserve:{action_id}")
            except Problem as problem:
                if not refused(problem, action_id):
                    raise
                return _refused_reservation(request, problem)
            self._remember(body["external_ref"], reservation["id"])
            return _reservation_answer(request, reservation)

        return self.actions.run("reservation", action_id, request, plan=plan, execute=execute)

    def _remember(self, external_ref: str, reservation_id: str) -> None:
        key = f"sf:oci:ref:{{{external_ref}}}"
        self.redis.hset(key, reservation_id, datetime.now(UTC).isoformat())
        self.redis.expire(key, REF_RETENTION_SECONDS)

    def _reservations_of(self, external_ref: str, statuses=("active",)) -> list[dict]:
        ids = sorted(self.redis.hgetall(f"sf:oci:ref:{{{external_ref}}}").items(), key=lambda item: item[1])
        found = []
        for reservation_id, _ in ids:
            try:
                reservation = self.inventory.reservation(reservation_id)
            except Problem as problem:
                if problem.status == 404:
                    continue
                raise
            if reservation["status"] in statuses:
                found.append(reservation)
        return found

    # release, fulfil, transfer ---------------------------------------------------------------
    def release(self, records: list[dict]) -> dict:
        return self._each("release", records, self._plan_release, self._execute_release)

    def fulfil(self, records: list[dict]) -> dict:
        return self._each(
            "fulfilment", records, lambda record: self._plan_fulfilment(record, records), self._execute_fulfilment
        )

    def transfer(self, records: list[dict]) -> dict:
        return self._each("transfer", records, self._plan_transfer, self._execute_transfer)

    def _each(self, kind: str, records: list[dict], plan, apply) -> dict:
        """Each record once per actionRequestId: `plan(record)` then `apply(record, plan)`; a refusal by
        the process API (or a plan that found nothing to act on) is that record's error."""
        output: dict[str, list[dict]] = {"successes": [], "errors": []}
        for record in records:
            answer = self.actions.run(
                kind,
                record["actionRequestId"],
                record,
                plan=lambda record=record: plan(record),
                execute=lambda chosen, record=record: _settle(record, chosen, apply),
            )
            output["successes" if answer["success"] else "errors"].append(answer["entry"])
        return output

    def _holding(self, record: dict, statuses=("active",)) -> tuple[dict | None, list[dict]]:
        """The first reservation of the record's externalRefId holding its SKU at its place, and the
        release lines (per location) that take the record's quantity from it."""
        sku, place = record["stockKeepingUnit"], _canonical_place(record)
        for reservation in self._reservations_of(record["externalRefId"], statuses):
            held: dict[str, int] = {}
            for line in reservation["lines"]:
                other_group = "location_group" in place and line["location_group"] != place["location_group"]
                if line["sku"] != sku or other_group:
                    continue
                for allocation in line["allocations"]:
                    if "location" not in place or allocation["location"] == place["location"]:
                        held[allocation["location"]] = held.get(allocation["location"], 0) + allocation["quantity"]
            if sum(held.values()) >= record["quantity"]:
                lines, wanted = [], record["quantity"]
                for location, units in sorted(held.items()):
                    take = min(units, wanted)
                    if take:
                        lines.append({"sku": sku, "location": location, "quantity": take})
                    wanted -= take
                return reservation, lines
        return None, []

    def _plan_release(self, record: dict) -> dict:
        reservation, lines = self._holding(record)
        if reservation is None:
            return _no_holding(record)
        return {"reservation_id": reservation["id"], "lines": lines}

    def _execute_release(self, record: dict, plan: dict) -> None:
        self.inventory.release(
            plan["reservation_id"], plan["lines"], idempotency_key=f"sf-oci:release:{record['actionRequestId']}"
        )

    def _plan_fulfilment(self, record: dict, siblings: list[dict]) -> dict:
        reservation, _ = self._holding(record, LIVE)
        if reservation is None:
            return _no_holding(record)
        # The records of this request for the same reservation must cover all it holds, per SKU.
        asked: dict[str, int] = {}
        for sibling in siblings:
            if sibling["externalRefId"] == record["externalRefId"]:
                asked[sibling["stockKeepingUnit"]] = asked.get(sibling["stockKeepingUnit"], 0) + sibling["quantity"]
        held: dict[str, int] = {}
        for line in reservation["lines"]:
            if line["reserved"]:
                held[line["sku"]] = held.get(line["sku"], 0) + line["reserved"]
        if asked != held:
            return {
                "error": {
                    "code": "PARTIAL_FULFILLMENT_UNSUPPORTED",
                    "message": f"reservation {record['externalRefId']} holds {_units(held)}; a fulfilment "
                    f"must cover all of it (this request covers {_units(asked)}). Release "
                    "what will not ship first, then fulfil the rest.",
                }
            }
        return {"reservation_id": reservation["id"]}

    def _execute_fulfilment(self, record: dict, plan: dict) -> None:
        # Keyed by reservation: every record of one fulfilment shares the one process-API call.
        self.inventory.fulfil(plan["reservation_id"], idempotency_key=f"sf-oci:fulfil:{plan['reservation_id']}")

    def _plan_transfer(self, record: dict) -> dict:
        reservation, lines = self._holding(record)
        if reservation is None:
            return _no_holding(record)
        expires_at = datetime.fromisoformat(reservation["expires_at"])
        remaining = max(1, int((expires_at - datetime.now(UTC)).total_seconds()))
        target = {
            "sku": record["stockKeepingUnit"],
            **_canonical_place(record, target=True),
            "quantity": record["quantity"],
        }
        return {
            "reservation_id": reservation["id"],
            "lines": lines,
            "reserve": {
                "channel": reservation["channel"],
                "external_ref": record["externalRefId"],
                "ttl_seconds": remaining,
                "allow_partial": False,
                "lines": [target],
            },
        }

    def _execute_transfer(self, record: dict, plan: dict) -> None:
        action_id = record["actionRequestId"]
        # Reserve at the target first: should it be short, the source still holds everything.
        target = self.inventory.reserve(plan["reserve"], idempotency_key=f"sf-oci:transfer:{action_id}:reserve")
        self._remember(record["externalRefId"], target["id"])
        self.inventory.release(
            plan["reservation_id"], plan["lines"], idempotency_key=f"sf-oci:transfer:{action_id}:release"
        )


# -- answers -------------------------------------------------------------------------------
def _settle(record: dict, plan: dict, apply) -> dict:
    if "error" in plan:
        return _failure(record, **plan["error"])
    try:
        apply(record, plan)
    except Problem as problem:
        if not refused(problem, record["actionRequestId"]):
            raise
        return _failure(record, error_code(problem), problem.detail)
    return _success(record)


def _units(per_sku: dict[str, int]) -> str:
    return json.dumps(per_sku, sort_keys=True)


def _entry(record: dict) -> dict:
    names = (
        "actionRequestId",
        "externalRefId",
        "stockKeepingUnit",
        "locationIdentifier",
        "locationGroupIdentifier",
        "toLocationIdentifier",
        "toLocationGroupIdentifier",
        "quantity",
    )
    return {name: record[name] for name in names if record.get(name) is not None}


def _success(record: dict) -> dict:
    return {"success": True, "entry": _entry(record)}


def _failure(record: dict, code: str, message: str) -> dict:
    return {"success": False, "entry": {"details": _entry(record), "errorCode": code, "message": message}}


def _no_holding(record: dict) -> dict:
    where = record.get("locationIdentifier") or record.get("locationGroupIdentifier")
    return {
        "error": {
            "code": "RESERVATION_NOT_FOUND",
            "message": f"no active reservation {record['externalRefId']} holds {record['quantity']} "
            f"of {record['stockKeepingUnit']} at {where}",
        }
    }


def _detail(record: dict, reserved: int | None, errors: list[dict]) -> dict:
    detail = {
        "stockKeepingUnit": record["stockKeepingUnit"],
        **_place(record),
        "quantity": record["quantity"],
        "success": not errors,
        "errors": errors,
    }
    if reserved is not None:
        detail["reservedQuantity"] = reserved
    return detail


def _reservation_answer(request: dict, reservation: dict) -> dict:
    details = []
    for record, line in zip(request["createRecords"], reservation["lines"]):
        short = line["reserved"] < line["requested"]
        details.append(
            _detail(
                record,
                line["reserved"],
                [
                    {
                        "errorCode": "INSUFFICIENT_QUANTITY",
                        "message": f"{line['reserved']} of {line['requested']} reserved",
                    }
                ]
                if short
                else [],
            )
        )
    return {
        "success": True,
        "actionRequestId": request["actionRequestId"],
        "reservationTime": reservation["created_at"],
        "expirationTime": reservation["expires_at"],
        "details": details,
        "errors": [],
    }


def _refused_reservation(request: dict, problem: Problem) -> dict:
    code = error_code(problem)
    shortfalls = {short["line"]: short for short in problem.extensions.get("shortfalls") or []}
    details = []
    for index, record in enumerate(request["createRecords"]):
        short = shortfalls.get(index)
        if short:
            errors = [
                {
                    "errorCode": "INSUFFICIENT_QUANTITY",
                    "message": f"{short['requested']} requested, {short['available']} available",
                }
            ]
        elif shortfalls:
            errors = [
                {
                    "errorCode": "NOT_RESERVED",
                    "message": "another line is short and partial reservations were not allowed",
                }
            ]
        else:
            errors = [{"errorCode": code, "message": problem.detail}]
        details.append(_detail(record, 0 if shortfalls else None, errors))
    return {
        "success": False,
        "actionRequestId": request["actionRequestId"],
        "reservationTime": None,
        "expirationTime": None,
        "details": details,
        "errors": [{"errorCode": code, "message": problem.detail}],
    }
