"""Order traffic driver: plays Salesforce Order Management calling the gateway's OCI-shaped
reservation API (`/salesforce/v1/oci/…`): reserve an order's lines, later fulfil or release them.

Every call carries an actionRequestId; a call that times out, cannot connect, or is answered
429/5xx is retried (bounded, tenacity) with the same body and so the same actionRequestId, which
is what lets the gateway apply it at most once.

    python -m simulators.salesforce.driver --gateway-url http://127.0.0.1:8080 --rate 20 --duration 10
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import requests
import tenacity

from shared.tier_client import retry_after_seconds, session_for
from simulators.demo_catalogue import DEMO_SKUS

OCI_ROOT = "/salesforce/v1/oci"
DEMO_LOCATIONS = ("S001", "S002", "S003")
DEMO_LOCATION_GROUPS = ("WEB-SHIP",)
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 5.0
SETTLE_SHARE = 0.4  # share of ticks that settle an open order instead of placing a new one
#: Orders held open at most: more ticks place than settle, so a long run would otherwise hold ever more
#: of the stock reserved (and the driver ever more memory); past it the oldest order is settled.
MAX_OPEN_ORDERS = 200
FULFIL_SHARE = 0.7  # of settled orders, how many are fulfilled (the rest released)


@dataclass
class DriverResult:
    orders: int = 0  # reservation requests placed
    reserved: int = 0  # answered with success
    rejected: int = 0  # answered 4xx or success false (e.g. not enough stock)
    fulfilled: int = 0
    released: int = 0
    errors: int = 0  # calls that still failed after every retry
    retries: int = 0  # extra attempts made
    attempts: Counter = field(default_factory=Counter)  # actionRequestId -> attempts made with it
    elapsed_seconds: float = 0.0

    def to_dict(self) -> dict:
        return {
            "orders": self.orders,
            "reserved": self.reserved,
            "rejected": self.rejected,
            "fulfilled": self.fulfilled,
            "released": self.released,
            "errors": self.errors,
            "retries": self.retries,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }


class RetryableAnswer(Exception):
    def __init__(self, response: requests.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after_seconds(response.headers.get("Retry-After"))


@dataclass
class Order:
    external_ref: str
    lines: list[dict]  # stockKeepingUnit, locationIdentifier | locationGroupIdentifier, quantity


class OciClient:
    """POSTs to the gateway's OCI API, retrying with the same body (and actionRequestId)."""

    def __init__(
        self,
        gateway_url: str,
        result: DriverResult,
        *,
        session: requests.Session | None = None,
        timeout: float = 10.0,
        attempts: int = 4,
        headers: dict | None = None,
        backoff_seconds: float = 0.05,
    ) -> None:
        self.base = gateway_url.rstrip("/") + OCI_ROOT
        self.session = session or session_for(self.base)
        self.timeout, self.headers, self.result = timeout, headers or {}, result
        self._retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(attempts),
            reraise=True,
            retry=tenacity.retry_if_exception_type((RetryableAnswer, requests.ConnectionError, requests.Timeout)),
            wait=self._wait(tenacity.wait_exponential(multiplier=backoff_seconds, max=2.0)),
            before_sleep=lambda _state: self._count_retry(),
        )

    @staticmethod
    def _wait(backoff):
        def wait(state: tenacity.RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if isinstance(error, RetryableAnswer) and error.retry_after is not None:
                return min(error.retry_after, MAX_RETRY_AFTER_SECONDS)
            return backoff(state)

        return wait

    def _count_retry(self) -> None:
        self.result.retries += 1

    def post(self, path: str, body: dict, action_ids: Sequence[str]) -> requests.Response:
        """The final answer (RetryableAnswer's response once retries are spent); raises on network errors."""

        def attempt() -> requests.Response:
            for action_id in action_ids:
                self.result.attempts[action_id] += 1
            response = self.session.post(self.base + path, json=body, headers=self.headers, timeout=self.timeout)
            if response.status_code in RETRYABLE_STATUSES:
                raise RetryableAnswer(response)
            return response

        try:
            return self._retrying(attempt)
        except RetryableAnswer as error:
            return error.response


def _succeeded(response: requests.Response) -> bool:
    """A reservation answers `success`; releases and fulfilments list `successes` and `errors` per record."""
    if response.status_code not in (200, 201):
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if "success" in body:
        return body["success"] is True
    return bool(body.get("successes")) and not body.get("errors")


class OrderManagement:
    """Places orders and settles them later, one call per tick."""

    def __init__(
        self,
        client: OciClient,
        *,
        skus: Sequence[str],
        locations: Sequence[str],
        location_groups: Sequence[str],
        seed: int,
        max_open_orders: int = MAX_OPEN_ORDERS,
    ) -> None:
        if not skus or not (locations or location_groups):
            raise ValueError("the driver needs at least one SKU and one location or location group")
        self.client, self.skus = client, list(skus)
        self.places = [("locationIdentifier", location) for location in locations] + [
            ("locationGroupIdentifier", group) for group in location_groups
        ]
        self.random = random.Random(seed)
        self.open_orders: deque[Order] = deque()
        self.max_open_orders = max_open_orders
        self.result = client.result
        self._order_numbers = itertools.count(1)

    def step(self) -> None:
        full = len(self.open_orders) >= self.max_open_orders
        if self.open_orders and (full or self.random.random() < SETTLE_SHARE):
            self.settle(self.open_orders.popleft())
        else:
            self.place_order()

    def place_order(self) -> None:
        lines = []
        for sku in self.random.sample(self.skus, k=min(len(self.skus), self.random.randint(1, 3))):
            kind, place = self.random.choice(self.places)
            lines.append({"stockKeepingUnit": sku, kind: place, "quantity": self.random.randint(1, 3)})
        order = Order(f"order-{uuid.uuid4().hex[:12]}-{next(self._order_numbers)}", lines)
        action_id = str(uuid.uuid4())
        body = {
            "actionRequestId": action_id,
            "externalRefId": order.external_ref,
            "expirationSeconds": 900,
            "allowPartialReservations": False,
            "createRecords": order.lines,
        }
        self.result.orders += 1
        response = self._post("/reservations", body, [action_id])
        if response is None:
            return
        if _succeeded(response):
            self.result.reserved += 1
            self.open_orders.append(order)
        else:
            self.result.rejected += 1

    def settle(self, order: Order) -> None:
        fulfil = self.random.random() < FULFIL_SHARE
        kind = "fulfillment" if fulfil else "release"
        records = [
            {"actionRequestId": str(uuid.uuid4()), "externalRefId": order.external_ref, **line} for line in order.lines
        ]
        response = self._post(f"/{kind}s", {f"{kind}Records": records}, [r["actionRequestId"] for r in records])
        if response is None:
            return
        if _succeeded(response):
            if fulfil:
                self.result.fulfilled += 1
            else:
                self.result.released += 1
        else:
            self.result.rejected += 1

    def _post(self, path: str, body: dict, action_ids: list[str]) -> requests.Response | None:
        try:
            response = self.client.post(path, body, action_ids)
        except requests.RequestException:
            self.result.errors += 1
            return None
        if response.status_code >= 500 or response.status_code == 429:
            self.result.errors += 1
            return None
        return response


def run_orders(
    gateway_url: str,
    *,
    rate: float = 10.0,
    duration: float = 10.0,
    skus: Sequence[str] = DEMO_SKUS,
    locations: Sequence[str] = DEMO_LOCATIONS,
    seed: int = 0,
    session: requests.Session | None = None,
    location_groups: Sequence[str] = DEMO_LOCATION_GROUPS,
    max_orders: int | None = None,
    timeout: float = 10.0,
    attempts: int = 4,
    headers: dict | None = None,
    backoff_seconds: float = 0.05,
    max_open_orders: int = MAX_OPEN_ORDERS,
) -> DriverResult:
    """Place and settle orders at `rate` calls per second for `duration` seconds (or `max_orders` ticks).

    `session` may be any requests.Session (e.g. with the tier client's in-process adapter mounted);
    `headers` go on every call (e.g. the gateway's Authorization).
    """
    if rate <= 0:
        raise ValueError("rate must be > 0")
    result = DriverResult()
    client = OciClient(
        gateway_url,
        result,
        session=session,
        timeout=timeout,
        attempts=attempts,
        headers=headers,
        backoff_seconds=backoff_seconds,
    )
    orders = OrderManagement(
        client,
        skus=skus,
        locations=locations,
        location_groups=location_groups,
        seed=seed,
        max_open_orders=max_open_orders,
    )
    started, ticks = time.monotonic(), 0
    while time.monotonic() - started < duration and (max_orders is None or ticks < max_orders):
        # Tick n is due at n / rate; a late tick runs at once, so a stall is caught up, not skipped.
        pause = started + ticks / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        orders.step()
        ticks += 1
    result.elapsed_seconds = time.monotonic() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators.salesforce.driver", description=__doc__.splitlines()[0])
    parser.add_argument("--gateway-url", required=True, help="base URL of the gateway (…/salesforce/v1/oci below)")
    parser.add_argument("--rate", type=float, default=10.0, help="calls per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds")
    parser.add_argument("--max-orders", type=int, help="stop after this many ticks")
    parser.add_argument("--skus", default=",".join(DEMO_SKUS), help="comma-separated SKUs")
    parser.add_argument("--locations", default=",".join(DEMO_LOCATIONS), help="comma-separated location ids")
    parser.add_argument("--location-groups", default=",".join(DEMO_LOCATION_GROUPS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per HTTP call")
    parser.add_argument("--attempts", type=int, default=4, help="tries per call, the first included")
    parser.add_argument(
        "--max-open-orders",
        type=int,
        default=MAX_OPEN_ORDERS,
        help="orders held open at most; past it the oldest is settled",
    )
    parser.add_argument("--token", help="sent as 'Authorization: Bearer <token>'")
    args = parser.parse_args(argv)

    def split(text: str) -> list[str]:
        return [part.strip() for part in text.split(",") if part.strip()]

    result = run_orders(
        args.gateway_url,
        rate=args.rate,
        duration=args.duration,
        skus=split(args.skus),
        locations=split(args.locations),
        location_groups=split(args.location_groups),
        seed=args.seed,
        max_orders=args.max_orders,
        timeout=args.timeout,
        attempts=args.attempts,
        max_open_orders=args.max_open_orders,
        headers={"Authorization": f"Bearer {args.token}"} if args.token else None,
    )
    print(json.dumps(result.to_dict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
