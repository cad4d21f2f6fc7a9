"""OCI's actionRequestId made exactly-once: the first answer to an action is stored in Redis and
every repeat gets it back; the same id with another body is refused (422).

An action runs in two steps, each kept under the action's id:
1. the *plan*, the process-API request(s) the action becomes, worked out from the gateway's
   state and written (SET NX) before anything is sent, so a repeat after a crash sends the very
   same bodies even if the state moved meanwhile;
2. the *answer*, written once the process API answered. The process-API calls carry an
   Idempotency-Key derived from the actionRequestId, so a crash between the two steps only makes
   the process API replay its stored answer. The answer is written SET NX: when concurrent
   repeats both execute, the first answer stored stays the answer of every later repeat.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from shared.errors import Problem


def _fingerprint(kind: str, request: dict) -> str:
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{kind}\n{canonical}".encode()).hexdigest()


class ActionStore:
    def __init__(self, redis, ttl_seconds: int) -> None:
        self.redis, self.ttl_seconds = redis, ttl_seconds

    def run(
        self, kind: str, action_id: str, request: dict, *, plan: Callable[[], dict], execute: Callable[[dict], dict]
    ) -> dict:
        """The stored answer of `action_id`, else `execute(plan())` stored as its answer."""
        fingerprint = _fingerprint(kind, request)
        # One hash tag per action: its plan and answer live in one cluster slot.
        answer_key, plan_key = f"sf:oci:{{{action_id}}}:answer", f"sf:oci:{{{action_id}}}:plan"
        stored = self.redis.get(answer_key)
        if stored is not None:
            return _checked(json.loads(stored), fingerprint, action_id)["answer"]
        planned = self.redis.get(plan_key)
        if planned is None:
            candidate = json.dumps({"fingerprint": fingerprint, "plan": plan()})
            if self.redis.set(plan_key, candidate, nx=True, ex=self.ttl_seconds):
                planned = candidate
            else:  # a concurrent repeat planned first: follow its plan
                planned = self.redis.get(plan_key) or candidate
        chosen = _checked(json.loads(planned), fingerprint, action_id)["plan"]
        answer = execute(chosen)
        if self.redis.set(
            answer_key, json.dumps({"fingerprint": fingerprint, "answer": answer}), nx=True, ex=self.ttl_seconds
        ):
            return answer
        stored = self.redis.get(answer_key)  # a concurrent repeat answered first: its answer is the one
        return json.loads(stored)["answer"] if stored is not None else answer


def _checked(record: dict, fingerprint: str, action_id: str) -> dict:
    if record["fingerprint"] != fingerprint:
        raise Problem(
            422,
            f"actionRequestId {action_id} was already used for a different request; "
            "use a new actionRequestId for a new action",
            type_slug="action-request-id-reused",
            actionRequestId=action_id,
        )
    return record
