"""Business events of the simulated S/4: a CloudEvents 1.0 broker pushing to webhook subscribers.

Every posted material document (a Cancel's reversal document too) emits, notification style:

    {"specversion": "1.0", "type": "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1",
     "source": "/default/sap.s4.beh/<SID>", "id": "<uuid4>", "time": "2026-01-05T10:15:00Z",
     "datacontenttype": "application/json",
     "data": {"MaterialDocument": "4900000000", "MaterialDocumentYear": "2026"}}

and a cancellation (Cancel or CancelItem), after the Created event of its reversal document,
`sap.s4.beh.materialdocument.v1.MaterialDocument.Canceled.v1` with the same data shape naming the
cancelled document (the reversal document names it back in its items' ReversedMaterialDocument*).

Delivery is at-least-once, like an event broker: each push is retried with exponential backoff
(base × 2^(attempt-1), capped) on a non-2xx answer, a connection error or a timeout, up to
`max_attempts`; then it is parked in an inspectable "undeliverable" list. A redelivered or
duplicated push carries the same CloudEvent `id`, so receivers deduplicate on it. Pushes go out
on background threads, so posting a document never waits for a subscriber; `flush()` waits until
nothing is pending (tests use it instead of sleeping).

Content modes:
- structured: body = the whole CloudEvent as JSON, `Content-Type: application/cloudevents+json`;
- structured-json: the same body with `Content-Type: application/json`, as SAP Event Mesh delivers
  S/4HANA's events to a webhook;
- binary: `ce-specversion`, `ce-type`, `ce-source`, `ce-id`, `ce-time` headers, body = `data` as JSON,
  `Content-Type: application/json`.

Authentication of each push (the contract with the gateway's webhook receiver):
- hmac: headers `X-Signature-Timestamp: <unix seconds, decimal integer>` and
  `X-Signature: sha256=<hex>`, where hex = HMAC-SHA256(key = SAP_WEBHOOK_SECRET as UTF-8,
  msg = f"{timestamp}.".encode() + <the exact body bytes sent>), lowercase hex digest. The timestamp
  is the wall-clock time of that attempt (each retry is signed afresh).
- basic: HTTP Basic auth with SAP_USER / SAP_PASSWORD.
- oauth: `Authorization: Bearer <token>`, the subscription's token (a static one, or a callable asked
  for each push, e.g. minting a JWT as a broker's OAuth client gets one from its issuer).
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import requests
from requests.adapters import HTTPAdapter

from simulators.sap.faults import FaultInjector

EVENT_TYPE = "sap.s4.beh.materialdocument.v1.MaterialDocument.Created.v1"
CANCELED_EVENT_TYPE = "sap.s4.beh.materialdocument.v1.MaterialDocument.Canceled.v1"
MODES = ("structured", "structured-json", "binary")
AUTH_SCHEMES = ("hmac", "basic", "oauth")
#: A subscription's bearer token: fixed, or asked for at each push (tokens expire).
Token = str | Callable[[], str]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Signature` header value for `body` pushed at `timestamp` (unix seconds, as sent)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True)
class Subscription:
    id: str
    url: str
    mode: str = "structured"
    auth: str = "hmac"
    token: Token | None = field(default=None, repr=False)  # oauth only; never listed

    def bearer_token(self) -> str:
        return self.token() if callable(self.token) else self.token or ""

    def to_dict(self) -> dict:
        return {"id": self.id, "url": self.url, "mode": self.mode, "auth": self.auth}


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff_base_seconds: float = 0.5
    backoff_max_seconds: float = 60.0
    timeout_seconds: float = 5.0
    workers: int = 2

    def backoff(self, attempts: int) -> float:
        return min(self.backoff_max_seconds, self.backoff_base_seconds * 2 ** (attempts - 1))


@dataclass(order=True)
class _Push:
    due: float
    seq: int
    subscription: Subscription = field(compare=False)
    event: dict = field(compare=False)
    attempts: int = field(default=0, compare=False)
    last_error: str = field(default="", compare=False)


class EventBroker:
    def __init__(
        self,
        *,
        source: str,
        secret: str | None,
        user: str | None,
        password: str | None,
        faults: FaultInjector,
        policy: DeliveryPolicy | None = None,
        clock: Callable[[], datetime],
    ) -> None:
        self.source, self._secret = source, secret
        self._basic = (user, password) if user and password else None  # Basic auth needs both
        self._faults, self.policy, self._clock = faults, policy or DeliveryPolicy(), clock
        self.session = requests.Session()  # mount a WSGI transport on it for in-process subscribers
        self.session.trust_env = False  # subscribers are called directly: no proxy lookup in the environment per push
        # A kept connection per delivery thread: requests keeps 10, and every push beyond would open a new one.
        for scheme in ("http://", "https://"):
            self.session.mount(scheme, HTTPAdapter(pool_maxsize=self.policy.workers))
        # One lock, two conditions: delivery threads wait for work on `_cond`, flush() waits for
        # idleness on `_idle`. Waking only as many threads as there is work for matters: with
        # notify_all on every event, each push would wake every delivery thread for nothing.
        lock = threading.RLock()
        self._cond = threading.Condition(lock)
        self._idle = threading.Condition(lock)
        self._subscriptions: dict[str, Subscription] = {}
        self._heap: list[_Push] = []
        self._held: list[_Push] = []  # the reorder window
        self._held_since = 0.0
        self._in_flight = 0
        self._seq = itertools.count()
        self._workers: list[threading.Thread] = []
        self._closed = False
        self._undeliverable: list[dict] = []
        self._stats = dict.fromkeys(
            ("published", "pushes", "delivered", "attempts", "failed_attempts", "dropped", "duplicated"), 0
        )

    # --- subscriptions -----------------------------------------------------------------------------

    def subscribe(
        self, url: object, *, mode: str = "structured", auth: str = "hmac", token: Token | None = None
    ) -> Subscription:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError("url must be an http(s) URL")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if auth not in AUTH_SCHEMES:
            raise ValueError(f"auth must be one of {', '.join(AUTH_SCHEMES)}")
        if auth == "hmac" and not self._secret:
            raise ValueError("auth=hmac needs SAP_WEBHOOK_SECRET to be set")
        if auth == "basic" and self._basic is None:
            raise ValueError("auth=basic needs SAP_USER and SAP_PASSWORD to be set")
        if auth == "oauth" and not token:
            raise ValueError("auth=oauth needs a bearer token (SAP_SIM_WEBHOOK_TOKEN)")
        subscription = Subscription(uuid.uuid4().hex[:12], url, mode, auth, token if auth == "oauth" else None)
        with self._cond:
            self._subscriptions[subscription.id] = subscription
        return subscription

    def unsubscribe(self, subscription_id: str) -> bool:
        with self._cond:
            return self._subscriptions.pop(subscription_id, None) is not None

    def subscriptions(self) -> list[Subscription]:
        with self._cond:
            return list(self._subscriptions.values())

    # --- publishing ----------------------------------------------------------------------------------

    def material_document_created(self, year: str, number: str) -> dict:
        """Build and publish the Created event of one material document; returns the event."""
        return self._material_document_event(EVENT_TYPE, year, number)

    def material_document_canceled(self, year: str, number: str) -> dict:
        """Build and publish the Canceled event of a cancelled material document; returns the event."""
        return self._material_document_event(CANCELED_EVENT_TYPE, year, number)

    def _material_document_event(self, event_type: str, year: str, number: str) -> dict:
        event = {
            "specversion": "1.0",
            "type": event_type,
            "source": self.source,
            "id": str(uuid.uuid4()),
            "time": self._clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "datacontenttype": "application/json",
            "data": {"MaterialDocument": number, "MaterialDocumentYear": year},
        }
        self.publish(event)
        return event

    def publish(self, event: dict) -> None:
        with self._cond:
            self._stats["published"] += 1
            if not self._subscriptions:
                return
            self._start_workers()
            now = time.monotonic()
            window = self._faults.settings.reorder
            for subscription in self._subscriptions.values():
                copies = self._faults.copies_of_push()
                if copies == 0:
                    self._stats["dropped"] += 1
                self._stats["duplicated"] += max(0, copies - 1)
                for _ in range(copies):
                    self._stats["pushes"] += 1
                    push = _Push(now, next(self._seq), subscription, event)
                    if window > 1:
                        if not self._held:
                            self._held_since = now
                        self._held.append(push)
                    else:
                        heapq.heappush(self._heap, push)
            released = window > 1 and len(self._held) >= window
            if released:
                self._release_held()
            # a worker also needs waking for a held window: one of them times its release
            self._cond.notify(len(self._heap) if released else max(1, len(self._heap)))

    def _release_held(self) -> None:
        self._faults.shuffle(self._held)
        now = time.monotonic()
        for push in self._held:
            push.due, push.seq = now, next(self._seq)
            heapq.heappush(self._heap, push)
        self._held = []

    # --- waiting and inspection ----------------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Release any held reorder window and wait until every push is delivered or parked."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._held:
                self._release_held()
                self._cond.notify_all()
            while self._heap or self._held or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
            return True

    wait_idle = flush

    def stats(self) -> dict:
        with self._cond:
            return {
                **self._stats,
                "pending": len(self._heap) + len(self._held) + self._in_flight,
                "in_flight": self._in_flight,
                "undeliverable": len(self._undeliverable),
                "subscriptions": len(self._subscriptions),
            }

    def undeliverable(self) -> list[dict]:
        with self._cond:
            return [dict(entry) for entry in self._undeliverable]

    def reset(self) -> None:
        """Forget pending pushes, counters and parked events (subscriptions stay)."""
        with self._cond:
            self._heap.clear()
            self._held.clear()
            self._undeliverable.clear()
            self._stats = dict.fromkeys(self._stats, 0)
            self._cond.notify_all()
            self._idle.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for worker in self._workers:
            worker.join(timeout=2)
        self.session.close()

    # --- delivery ------------------------------------------------------------------------------------

    def _start_workers(self) -> None:
        if self._workers:
            return
        for number in range(self.policy.workers):
            worker = threading.Thread(target=self._work, name=f"sap-sim-events-{number}", daemon=True)
            worker.start()
            self._workers.append(worker)

    def _next_push(self) -> _Push | None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                hold = self._faults.settings.reorder_max_hold_ms / 1000
                if self._held and now - self._held_since >= hold:
                    self._release_held()
                if self._heap and self._heap[0].due <= now:
                    self._in_flight += 1
                    push = heapq.heappop(self._heap)
                    if self._heap or self._held:
                        self._cond.notify()  # hand the next push (or its timer) to another thread
                    return push
                waits = [self._heap[0].due - now] if self._heap else []
                if self._held:
                    waits.append(self._held_since + hold - now)
                self._cond.wait(max(0.001, min(waits)) if waits else None)
            return None

    def _work(self) -> None:
        while True:
            push = self._next_push()
            if push is None:
                return
            error = self._send(push)
            with self._cond:
                self._in_flight -= 1
                self._stats["attempts"] += 1
                push.attempts += 1
                if error is None:
                    self._stats["delivered"] += 1
                else:
                    self._stats["failed_attempts"] += 1
                    push.last_error = error
                    if push.attempts >= self.policy.max_attempts:
                        self._undeliverable.append(
                            {
                                "subscription": push.subscription.id,
                                "url": push.subscription.url,
                                "event": push.event,
                                "attempts": push.attempts,
                                "last_error": error,
                            }
                        )
                    else:
                        push.due = time.monotonic() + self.policy.backoff(push.attempts)
                        heapq.heappush(self._heap, push)
                        self._cond.notify()  # some thread must time the redelivery
                if not (self._heap or self._held or self._in_flight):
                    self._idle.notify_all()

    def _request(self, push: _Push) -> tuple[bytes, dict[str, str]]:
        event, subscription = push.event, push.subscription
        if subscription.mode == "binary":
            body = json.dumps(event["data"], separators=(",", ":")).encode()
            headers = {
                "Content-Type": "application/json",
                "ce-specversion": event["specversion"],
                "ce-type": event["type"],
                "ce-source": event["source"],
                "ce-id": event["id"],
                "ce-time": event["time"],
            }
        else:
            body = json.dumps(event, separators=(",", ":")).encode()
            mimetype = "application/json" if subscription.mode == "structured-json" else "application/cloudevents+json"
            headers = {"Content-Type": mimetype}
        if subscription.auth == "hmac":
            timestamp = str(int(time.time()))
            headers["X-Signature-Timestamp"] = timestamp
            headers["X-Signature"] = sign(self._secret or "", timestamp, body)
        elif subscription.auth == "oauth":
            headers["Authorization"] = f"Bearer {subscription.bearer_token()}"
        return body, headers

    def _send(self, push: _Push) -> str | None:
        """None when the subscriber took the push (2xx), else what went wrong."""
        body, headers = self._request(push)
        auth = self._basic if push.subscription.auth == "basic" else None
        try:
            response = self.session.post(
                push.subscription.url, data=body, headers=headers, auth=auth, timeout=self.policy.timeout_seconds
            )
        except requests.Timeout:
            return "timeout"
        except requests.RequestException as error:
            return f"{type(error).__name__}: {error}"[:300]
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"
