"""The injections: each drives real traffic through the split shape, breaks something under it,
and returns a report row judged from the harness's own records (chaos/audit.py)."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests

from benchmarks.salesforce import record_differences
from benchmarks.split import flush_deliveries
from simulators.sap.driver import run_traffic
from simulators.sap.seed import DEMO_LOCATION_MAP
from tests.support.salesforce_records import SALESFORCE_AUTH, SF_ADMIN, salesforce_records
from tests.support.sap_gateway import ADMIN, ODATA, differences, gateway_table, sap_table

from .audit import EventLedger, Position, ReservationLedger, Row, oversold, recovery_seconds
from .audit import differences as value_differences
from .stack import ChaosStack

EVENTS = "/inventory/v1/events"
RESERVATIONS = "/inventory/v1/reservations"
AVAILABILITY = "/inventory/v1/availability"
TIMEOUT = 10
#: How long one request is retried (same body, same Idempotency-Key or event ids) before the harness
#: records it as never answered: past a Redis restart, a worker's respawn and a dead request's lock.
ANSWER_WITHIN_SECONDS = 60
RETRY_PAUSE_SECONDS = 0.1
INGEST_LOCATIONS = ("DC01", "S001", "S002", "S003")
STORM_LOCATION = "S002"
STORM_CHANNEL = "call_centre"
STORM_STOCK = 30
SAFETY_UNITS = 1  # the demo rule set's safety stock everywhere but the DC (which adds 5 %)
OPENING_STOCK = 1000
SKU_PUBLISHED = "CHAOS-P01"  # the publisher deaths' change, watched in Salesforce


@dataclass(frozen=True)
class Profile:
    """How much of each injection one run plays."""

    name: str
    ingest_events: int
    redis_shutdowns: int
    redis_kills: int
    storm_requests: int
    storm_kills: int
    sap_seconds: float
    salesforce_seconds: float
    publisher_deaths: int
    hostile_repeats: int
    seed: int = 7


PROFILES = {
    "ci": Profile("ci", 3000, 1, 1, 240, 1, 8, 8, 2, 1),
    "full": Profile("full", 12000, 2, 2, 800, 3, 30, 30, 5, 5),
}


def stamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).isoformat().replace("+00:00", "Z")


def answered(send: Callable[[], requests.Response], *, definite: Callable[[requests.Response], bool]):
    """`send` again (the same request) until its answer is definite; None when none came in time.
    Only requests that are safe to repeat come here: events dedup on their ids, reservations carry an
    Idempotency-Key."""
    deadline = time.monotonic() + ANSWER_WITHIN_SECONDS
    while time.monotonic() < deadline:
        try:
            response = send()
        except requests.RequestException:
            time.sleep(RETRY_PAUSE_SECONDS)
            continue
        if definite(response):
            return response
        time.sleep(RETRY_PAUSE_SECONDS)
    return None


def positions(stack: ChaosStack, skus: list[str], field: str = "on_hand", **params) -> dict[Position, int]:
    """The gateway's `field` of every position of `skus` (one availability read per 100 SKUs)."""
    session, found = stack.split.gateway.api(), {}
    for start in range(0, len(skus), 100):
        answer = session.get(
            f"{stack.base_url}{AVAILABILITY}", params={"sku": skus[start : start + 100], **params}, timeout=TIMEOUT
        )
        answer.raise_for_status()
        for position in answer.json()["positions"]:
            found[(position["sku"], position["location"])] = position[field]
    return found


def converge(check: Callable[[], list[str]], within: float) -> tuple[float | None, list[str]]:
    """Poll `check` (lines of what differs) until it is empty: (seconds it took, None if it never did;
    the last differences)."""
    started = time.monotonic()
    while True:
        try:
            left = check()
        except requests.RequestException as error:
            left = [f"read failed: {error}"]
        if not left:
            return time.monotonic() - started, []
        if time.monotonic() - started > within:
            return None, left
        time.sleep(0.2)


# -- ingest while Redis is shut down and killed ------------------------------------------------------


class Ingest:
    """Batches of stock deltas posted to the process API until `budget` events were sent, each batch
    repeated until answered; what was acknowledged goes to the ledger."""

    BATCH = 20

    def __init__(self, stack: ChaosStack, skus: list[str], budget: int, rng: random.Random) -> None:
        self.stack, self.skus, self.budget, self.rng = stack, skus, budget, rng
        self.ledger = EventLedger()
        self._sessions = threading.local()  # one keep-alive session per client thread

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._sessions, "api"):
            self._sessions.api = self.stack.split.gateway.api()
        return self._sessions.api

    def open(self) -> None:
        """Count every position to OPENING_STOCK a minute ago, so every later delta applies."""
        counted_at = stamp(datetime.now(UTC) - timedelta(minutes=1))
        events = [
            {
                "event_id": f"chaos:count:{sku}:{location}",
                "type": "stock.counted",
                "sku": sku,
                "location": location,
                "quantity": OPENING_STOCK,
                "occurred_at": counted_at,
                "source": "chaos",
            }
            for sku in self.skus
            for location in INGEST_LOCATIONS
        ]
        for start in range(0, len(events), 100):
            self.post(events[start : start + 100], baseline=True)

    def post(self, events: list[dict], *, baseline: bool = False) -> None:
        with self.ledger.lock:
            self.ledger.sent += len(events)
        response = answered(
            lambda: self.session.post(f"{self.stack.base_url}{EVENTS}", json={"events": events}, timeout=TIMEOUT),
            definite=lambda r: r.status_code == 200,
        )
        ids = {event["event_id"]: event for event in events}
        with self.ledger.lock:
            if response is None:
                self.ledger.unanswered.update(ids)
                return
            self.ledger.answered_at.append(time.monotonic())
            refused = {
                item["event_id"]: item["outcome"]
                for item in response.json()["not_applied"]
                if item["outcome"] != "duplicate"
            }
            self.ledger.refused.update(refused)
            for event_id, event in ids.items():
                if event_id in refused:
                    continue
                position = (event["sku"], event["location"])
                if baseline:
                    self.ledger.baseline[position] = event["quantity"]
                else:
                    sign = 1 if event["type"] == "stock.received" else -1
                    self.ledger.acknowledged[event_id] = (position, sign * event["quantity"])

    def deltas(self, count: int) -> list[dict]:
        return [
            {
                "event_id": f"chaos:{uuid.uuid4().hex}",
                "type": self.rng.choice(("stock.received", "stock.issued")),
                "sku": self.rng.choice(self.skus),
                "location": self.rng.choice(INGEST_LOCATIONS),
                "quantity": self.rng.randint(1, 5),
                "occurred_at": stamp(),
                "source": "chaos",
            }
            for _ in range(count)
        ]

    def run(self, clients: int = 2) -> None:
        batches = self.budget // self.BATCH
        lock, left = threading.Lock(), [batches]

        def client() -> None:
            while True:
                with lock:
                    if left[0] == 0:
                        return
                    left[0] -= 1
                    batch = self.deltas(self.BATCH)
                self.post(batch)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def progress(self) -> float:
        with self.ledger.lock:
            return self.ledger.sent / self.budget


def ingest_through_redis_crashes(stack: ChaosStack, profile: Profile, rng: random.Random) -> list[Row]:
    skus = [f"CHAOS-I{n:02d}" for n in range(1, 11)]
    ingest = Ingest(stack, skus, profile.ingest_events, rng)
    ingest.open()
    faults = ["shutdown"] * profile.redis_shutdowns + ["kill"] * profile.redis_kills
    restarted: list[tuple[str, float]] = []

    def inject() -> None:
        for n, fault in enumerate(faults, start=1):
            while ingest.progress() < n / (len(faults) + 1):
                time.sleep(0.05)
            if fault == "shutdown":
                stack.redis.shutdown()
                time.sleep(1.0)  # an operator's restart takes a moment
            else:
                stack.redis.kill()
            stack.redis.restart()
            restarted.append((fault, time.monotonic()))

    injector = threading.Thread(target=inject, daemon=True)
    injector.start()
    ingest.run()
    injector.join()
    ledger = ingest.ledger
    expected = ledger.expected()
    took, left = converge(lambda: value_differences(expected, positions(stack, skus)), within=10)
    rows = []
    for fault, moment in restarted:
        label = "Redis SHUTDOWN during ingest" if fault == "shutdown" else "Redis kill -9 during ingest"
        rows.append(Row(label, 1, 1, 0, recovery_seconds(ledger.answered_at, moment), 10.0))
    acknowledged = len(ledger.acknowledged)
    rows.append(
        Row(
            "  events acknowledged = applied exactly once",
            ledger.sent - len(ledger.baseline),
            acknowledged,
            len(left) + len(ledger.refused),
            took,
            10.0,
            notes=[*left[:5], *(f"{i}: {o}" for i, o in list(ledger.refused.items())[:5])],
        )
    )
    return rows


# -- a reservation storm while workers are killed ---------------------------------------------------


def reservation_storm(stack: ChaosStack, profile: Profile, rng: random.Random, settings: dict) -> list[Row]:
    skus = [f"CHAOS-R{n:02d}" for n in range(1, 5)]
    opening = Ingest(stack, skus, 0, rng)
    counted_at = stamp(datetime.now(UTC) - timedelta(minutes=1))
    opening.post(
        [
            {
                "event_id": f"chaos:count:{sku}",
                "type": "stock.counted",
                "sku": sku,
                "location": STORM_LOCATION,
                "quantity": STORM_STOCK,
                "occurred_at": counted_at,
                "source": "chaos",
            }
            for sku in skus
        ],
        baseline=True,
    )
    ledger = ReservationLedger()
    # Half the requests span two SKUs: their holds are pending until the request makes them active,
    # the window a killed worker leaves behind (issue 13, point 4).
    plan = [
        (uuid.uuid4().hex, [(sku, rng.randint(1, 2)) for sku in rng.sample(skus, rng.choice((1, 2)))])
        for _ in range(profile.storm_requests)
    ]
    cursor, lock = [0], threading.Lock()

    def reserve(key: str, lines: list[tuple[str, int]]) -> None:
        http = stack.split.gateway.api()
        body = {
            "channel": STORM_CHANNEL,
            "external_ref": f"chaos-{key}",
            "ttl_seconds": 3600,
            "lines": [{"sku": sku, "location": STORM_LOCATION, "quantity": units} for sku, units in lines],
        }
        response = answered(
            lambda: http.post(
                f"{stack.base_url}{RESERVATIONS}", json=body, timeout=TIMEOUT, headers={"Idempotency-Key": key}
            ),
            definite=lambda r: (
                r.status_code in (200, 201, 422) or (r.status_code == 409 and "idempotency-key-in-flight" not in r.text)
            ),
        )
        with ledger.lock:
            if response is None:
                ledger.unanswered.add(key)
            elif response.status_code in (200, 201):
                ledger.accepted[key] = lines
            else:
                ledger.refused.add(key)
            if response is not None:
                ledger.answered_at.append(time.monotonic())

    def client() -> None:
        while True:
            with lock:
                if cursor[0] == len(plan):
                    return
                key, lines = plan[cursor[0]]
                cursor[0] += 1
            reserve(key, lines)

    kills: list[float] = []

    def inject() -> None:
        for n in range(1, profile.storm_kills + 1):
            while cursor[0] < n * len(plan) // (profile.storm_kills + 1):
                time.sleep(0.01)
            workers = stack.worker_pids()
            if workers:
                os.kill(rng.choice(workers), signal.SIGKILL)
                kills.append(time.monotonic())

    threads = [threading.Thread(target=client, daemon=True) for _ in range(6)]
    injector = threading.Thread(target=inject, daemon=True)
    for thread in (*threads, injector):
        thread.start()
    for thread in (*threads, injector):
        thread.join()
    held = ledger.held()
    # A request killed with its worker holds units until the sweeper takes them back (issue 13, point 4).
    bound = float(settings["IDEMPOTENCY_LOCK_SECONDS"]) + 10
    took, left = converge(
        lambda: value_differences(
            {(sku, STORM_LOCATION): held.get(sku, 0) for sku in skus},
            positions(stack, skus, "reserved", location=STORM_LOCATION),
        ),
        within=bound,
    )
    over = oversold(held, {sku: STORM_STOCK - SAFETY_UNITS for sku in skus})
    rows = [
        Row("kill -9 of a worker in a reservation storm", 1, 1, 0, recovery_seconds(ledger.answered_at, t), 5.0)
        for t in kills
    ]
    rows.append(
        Row(
            "  reserved = Σ acknowledged reservations",
            ledger.tried,
            len(ledger.accepted) + len(ledger.refused),
            len(left),
            took,
            bound,
            notes=left[:5],
        )
    )
    rows.append(
        Row(
            "  no reservation beyond on_hand − safety stock",
            sum(held.values()),
            sum(held.values()),
            sum(over.values()),
            notes=[f"{sku}: {units} units oversold" for sku, units in over.items()],
        )
    )
    return rows


# -- SAP's faults: 503s, timeouts, dropped, duplicated and reordered pushes ---------------------------


def sap_faults(stack: ChaosStack, profile: Profile, settings: dict) -> list[Row]:
    sap = stack.split.sap
    admin = sap.session()
    faults = {
        "error_rate": 0.1,
        "timeout_rate": 0.03,
        "timeout_seconds": float(settings["SAP_HELD_SECONDS"]),
        "drop_rate": 0.25,
        "duplicate_rate": 0.1,
        "reorder": 4,
        "skip_number_rate": 0.05,  # a buffered number range: numbers SAP never uses
        "seed": profile.seed,
    }
    admin.put(f"{sap.base_url}{ADMIN}/faults", json=faults, timeout=TIMEOUT).raise_for_status()
    try:
        result = run_traffic(
            f"{sap.base_url}{ODATA}",
            sap.user,
            sap.password,
            rate=15,
            duration=profile.sap_seconds,
            seed=profile.seed,
            timeout=faults["timeout_seconds"] + 10,
        )
    finally:
        admin.put(
            f"{sap.base_url}{ADMIN}/faults",
            json={key: 0 for key in faults if key != "timeout_seconds"},
            timeout=TIMEOUT,
        ).raise_for_status()
    flush_deliveries(stack.split, timeout=60)
    bound = float(settings["SAP_REPAIR_BOUND_SECONDS"])
    took, remaining = converge(lambda: sap_left(stack), within=bound)
    return [
        Row(
            "SAP 503s, timeouts, dropped/duplicated/reordered pushes",
            result.posted,
            result.posted,
            len(remaining),
            took,
            bound,
            notes=remaining[:5],
        )
    ]


def sap_left(stack: ChaosStack) -> list[str]:
    """Every position field where SAP's stock table and the gateway disagree."""
    sap = stack.split.sap
    snapshot = sap.session().get(f"{sap.base_url}{ADMIN}/stock", timeout=TIMEOUT)
    snapshot.raise_for_status()
    table = sap_table(snapshot.json(), DEMO_LOCATION_MAP)
    return differences(table, gateway_table(stack.base_url, {sku for sku, _ in table}, stack.split.gateway.api()))


# -- Salesforce's 429s and 503s; the publisher's death ------------------------------------------------


def salesforce_left(stack: ChaosStack) -> list[str]:
    """Every Product_Availability__c record that differs from the gateway's availability for its key
    (the Salesforce benchmark's comparison)."""
    return record_differences(stack.split.salesforce.base_url, stack.split.gateway)


def salesforce_faults(stack: ChaosStack, profile: Profile, rng: random.Random, settings: dict) -> list[Row]:
    org = stack.split.salesforce
    admin = requests.Session()
    admin.auth = SALESFORCE_AUTH
    faults = {"error_rate": 0.2, "rate_limit_rate": 0.2, "retry_after_seconds": 1, "seed": profile.seed}
    admin.put(f"{org.base_url}{SF_ADMIN}/faults", json=faults, timeout=TIMEOUT).raise_for_status()
    ingest = Ingest(stack, [f"CHAOS-S{n:02d}" for n in range(1, 6)], 0, rng)
    ingest.open()
    changes, started = 0, time.monotonic()
    try:
        while time.monotonic() - started < profile.salesforce_seconds:
            ingest.post(ingest.deltas(5))
            changes += 1
            time.sleep(0.2)
    finally:
        admin.put(
            f"{org.base_url}{SF_ADMIN}/faults", json={"error_rate": 0, "rate_limit_rate": 0}, timeout=TIMEOUT
        ).raise_for_status()
    bound = float(settings["SALESFORCE_REPAIR_BOUND_SECONDS"])
    took, left = converge(lambda: salesforce_left(stack), within=bound)
    return [Row("Salesforce 429/503", changes, changes, len(left), took, bound, notes=left[:5])]


def publisher_deaths(stack: ChaosStack, profile: Profile, settings: dict) -> list[Row]:
    org = stack.split.salesforce
    api = stack.split.gateway.api()
    bound = float(settings["PUBLISHER_FAILOVER_BOUND_SECONDS"])
    rows = []
    for death in range(profile.publisher_deaths):
        pid = None
        deadline = time.monotonic() + 15
        while pid is None and time.monotonic() < deadline:
            if len(stack.worker_pids()) >= stack.split.workers:
                pid = stack.publisher_pid()
            time.sleep(0.1)
        if pid is None:
            rows.append(Row("kill -9 of the active publisher", 1, 0, 0, None, bound, notes=["no active publisher"]))
            continue
        sku = SKU_PUBLISHED
        killed = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        event = {
            "event_id": f"chaos:publisher:{death}:{uuid.uuid4().hex}",
            "type": "stock.received",
            "sku": sku,
            "location": "S001",
            "quantity": 10 + death,
            "occurred_at": stamp(),
            "source": "chaos",
        }
        body = {"events": [event]}
        sent = answered(
            lambda body=body: api.post(f"{stack.base_url}{EVENTS}", json=body, timeout=TIMEOUT),
            definite=lambda r: r.status_code == 200,
        )
        if sent is None:
            rows.append(Row("kill -9 of the active publisher", 1, 0, 1, None, bound, notes=["event not accepted"]))
            continue
        want = positions(stack, [sku], "available_to_sell", location="S001", channel="web")[(sku, "S001")]

        def published(want: int = want) -> list[str]:
            key = f"{SKU_PUBLISHED}|S001|web"
            for record in salesforce_records(org.base_url):
                if record["Availability_Key__c"] == key and int(record["Available_To_Sell__c"]) == want:
                    return []
            return [f"{key} not yet {want} in Salesforce"]

        took, left = converge(published, within=bound + 10)
        seconds = None if took is None else time.monotonic() - killed
        rows.append(Row("kill -9 of the active publisher (kill → record)", 1, 1, len(left), seconds, bound, notes=left))
    return rows


# -- hostile input ------------------------------------------------------------------------------------


def hostile_requests(stack: ChaosStack, profile: Profile) -> list[Row]:
    """Inputs that once made a 5xx or stored junk; none may now. Raw bodies, so nothing is cleaned
    on the way."""
    base, key = stack.base_url, stack.split.gateway.api_key
    auth = {"X-API-Key": key, "Content-Type": "application/json"}

    occurred_at = stamp()

    def events(event_id: str, sku: str = "CHAOS-H1", extra: str = "") -> bytes:
        """One event item as raw JSON text: `event_id`, `sku` and `extra` go in unescaped."""
        item = (
            f'{{"event_id": "{event_id}", "sku": "{sku}", "type": "stock.received", "location": "S001", '
            f'"quantity": 1, "occurred_at": "{occurred_at}", "source": "chaos"{extra}}}'
        )
        return ('{"events": [' + item + "]}").encode()

    reservation = (
        b'{"channel": "web", "external_ref": "\\ud800", '
        b'"lines": [{"sku": "CHAOS-H1", "location": "S001", "quantity": 1}]}'
    )
    cases: list[tuple[str, str, dict, bytes | None]] = [
        ("POST", EVENTS, auth, b"[" * 1000 + b"]" * 1000),
        ("POST", EVENTS, auth, events("nan", extra=', "x": NaN')),
        ("POST", EVENTS, auth, events("big", extra=', "x": ' + "9" * 5000)),
        ("POST", EVENTS, auth, events("\\ud800")),
        ("POST", EVENTS, auth, events("nl", sku="CHAOS-H1\\n")),
        ("POST", EVENTS, auth, events("nul", sku="CHAOS-H1\\u0000")),
        ("POST", RESERVATIONS, {**auth, "Idempotency-Key": uuid.uuid4().hex}, reservation),
        ("GET", AVAILABILITY + "?" + "&".join(f"sku=CHAOS-{n:05d}" for n in range(1001)), auth, None),
        ("GET", AVAILABILITY + "?sku=CHAOS-H1&location=S001&location=S002", auth, None),
        ("GET", AVAILABILITY + "?sku=CHAOS-H1", {}, None),
        ("GET", AVAILABILITY + "?sku=CHAOS-H1", {"X-API-Key": "igw_nobody.secret"}, None),
        ("GET", AVAILABILITY + "?sku=CHAOS-H1", {**auth, "X-Padding": "x" * 20000}, None),
        ("PUT", "/inventory/v1/rules", {**auth, "If-Match": "*"}, b'{"safety_stock": [{"units": Infinity}]}'),
    ]
    # Every worker serves the odd methods twice, once before /metrics is measured (so every series a
    # 405 or 400 adds exists already) and once with new names after it: the second round may not grow it.
    odd_methods = [(f"M{n:04d}", AVAILABILITY, auth, None) for n in range(100 * profile.hostile_repeats)]
    tried = survived = 0
    failures = []

    def play(batch: list[tuple[str, str, dict, bytes | None]]) -> None:
        nonlocal tried, survived
        for method, path, headers, body in batch:
            tried += 1
            try:
                status = requests.request(method, base + path, headers=headers, data=body, timeout=TIMEOUT).status_code
            except requests.RequestException as error:
                failures.append(f"{method} {path[:60]}: {error}")
                continue
            if status < 500:
                survived += 1
            else:
                failures.append(f"{method} {path[:60]}: {status}")

    play(cases + odd_methods)
    metrics_before = series(requests.get(f"{base}/metrics", timeout=TIMEOUT).text)
    play([(f"N{n:04d}", path, headers, body) for n, (_, path, headers, body) in enumerate(odd_methods)])
    new_series = sorted(series(requests.get(f"{base}/metrics", timeout=TIMEOUT).text) - metrics_before)
    with stack.redis.client() as client:
        junk = [name for name in client.scan_iter(count=1000) if any(ord(c) < 0x20 or c == "\x7f" for c in name)]
    notes = failures[:5] + [f"stored key {name!r}" for name in junk[:5]]
    notes += [f"/metrics has a new series {name}" for name in new_series[:5]]
    return [
        Row(
            "hostile input (deep JSON, NaN, huge numbers, surrogates, control chars, odd methods…)",
            tried,
            survived,
            len(junk) + len(new_series),
            notes=notes,
        )
    ]


def series(metrics: str) -> set[str]:
    """The series of a Prometheus text page (name and labels, without values); those of /metrics
    itself left out (the worker answering the second read may be the first to have served it)."""
    return {
        line.rsplit(" ", 1)[0]
        for line in metrics.splitlines()
        if line and not line.startswith("#") and 'endpoint="/metrics"' not in line
    }


def final_audit(stack: ChaosStack, settings: dict) -> list[Row]:
    """After every injection: SAP's stock table equals the positions, Salesforce equals availability."""
    rows = []
    for label, check, bound in (
        ("after everything: SAP stock table = positions", sap_left, float(settings["SAP_REPAIR_BOUND_SECONDS"])),
        (
            "after everything: Salesforce = availability",
            salesforce_left,
            float(settings["SALESFORCE_REPAIR_BOUND_SECONDS"]),
        ),
    ):
        took, left = converge(lambda check=check: check(stack), within=bound)
        rows.append(Row(label, 1, 1, len(left), took, bound, notes=left[:5]))
    return rows
