"""The publisher's hold on its lease: a thread takes the lease when it is free and renews it every
PUBLISHER_LEASE_RENEW_SECONDS while the process lives, so a slow send never lets it lapse and a
standby takes it within a lease of the holder's death. The publisher sends only while the last
renewal is younger than the lease (a process paused past it may have lost it to another, which
then sends under a higher fencing token) and only under the token it joined with."""

from __future__ import annotations

import logging
import threading
import time

from ..adapters.leases import Lease

log = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, lease: Lease, *, lease_seconds: float, renew_seconds: float) -> None:
        self.lease, self.lease_seconds, self.renew_seconds = lease, lease_seconds, renew_seconds
        self.taken = threading.Event()  # set whenever the lease is taken
        self._lock = threading.Lock()
        self._token: int | None = None
        self._renewed_at = 0.0  # monotonic time the last successful take or renewal was sent
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def token(self) -> int | None:
        """The fencing token of the lease held now; None when this process may not send.

        The lease lives `lease_seconds` from when Redis took the renewal, which came after it was
        sent: counted from the sending, the hold ends here before it does in Redis."""
        with self._lock:
            if self._token is not None and time.monotonic() - self._renewed_at < self.lease_seconds:
                return self._token
            return None

    def beat(self) -> None:
        """Take the lease if it is not held, renew it if it is. A Redis error leaves the hold to
        run out by itself: nothing is sent past it, and the next beat finds out where it stands."""
        sent_at = time.monotonic()
        with self._lock:
            token = self._token
        if token is None:
            token = self.lease.take()
        elif not self.lease.extend():
            token = None
        with self._lock:
            taken = token is not None and token != self._token
            self._token = token
            if token is not None:
                self._renewed_at = sent_at
        if taken:
            self.taken.set()

    def beat_if_due(self) -> None:
        """Beat when the last one is a renewal interval old (for a publisher whose steps are run
        without the thread)."""
        with self._lock:
            due = self._token is None or time.monotonic() - self._renewed_at >= self.renew_seconds
        if due:
            self.beat()

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="publisher-lease", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.beat()
            except Exception:  # Redis away or slow: the hold runs out on its own (see beat)
                log.warning("the publisher lease could not be renewed", exc_info=True)
            if self._stopping.wait(self.renew_seconds):
                return

    def release(self) -> None:
        """Stop renewing and let go, so a successor need not wait for the lease to lapse."""
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            held, self._token = self._token is not None, None
        if held:
            try:
                self.lease.release()
            except Exception:  # it lapses by itself
                log.warning("the publisher lease could not be released; it lapses by itself", exc_info=True)
