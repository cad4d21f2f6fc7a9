"""`RecordStore`: the org's records and published Platform Events, every write's history, and
the transactions that let a collection roll back as a whole (allOrNone) or per record.

One re-entrant lock guards everything; a `Transaction` holds it from first write to commit, so
no other request sees a write that may still be rolled back.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

from simulators.salesforce.errors import RecordError
from simulators.salesforce.ids import IdSequence, normalise
from simulators.salesforce.schema import ID, SObjectType
from simulators.salesforce.values import coerce, format_datetime, missing_required, writable_values

#: writes kept in each record's history, and Platform Events kept per event type (oldest dropped first)
HISTORY_PER_RECORD = 1000
EVENTS_KEPT = 100_000


class MultipleMatches(RecordError):
    """An upsert key matched more than one record (HTTP 300 with the candidates' URLs)."""

    def __init__(self, object_name: str, field: str, value: str, ids: list[str]) -> None:
        super().__init__(
            "MULTIPLE_RECORDS_FOUND", f"Multiple records found with {field} = {value}", [field], http_status=300
        )
        self.object_name, self.ids = object_name, ids


def not_found(message: str = "The requested resource does not exist") -> RecordError:
    return RecordError("NOT_FOUND", message, http_status=404)


def _key(value) -> str:
    return str(value).casefold()  # text external ids and unique fields match case-insensitively


class Transaction:
    """Writes applied at once (under the store's lock) with an undo log; history on commit only."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store
        self._log: list[tuple[Callable[[], object], str, dict]] = []  # (undo, record id, history entry)
        self.event_uuids: dict[str, str] = {}  # event id -> EventUuid of the events published here

    def savepoint(self) -> int:
        return len(self._log)

    def rollback_to(self, savepoint: int = 0) -> None:
        while len(self._log) > savepoint:
            undo, _, _ = self._log.pop()
            undo()

    def commit(self) -> None:
        for _, record_id, entry in self._log:
            if entry:
                self._store._history[record_id].append(entry)
        self._log.clear()

    # --- writes -------------------------------------------------------------------------------------

    def create(self, sobject: SObjectType, body: Mapping) -> str:
        if sobject.event:
            return self.publish(sobject, body)
        values = writable_values(sobject, body)
        for field in sobject.fields.values():
            if field.default is not None:
                values.setdefault(field.name, field.default)
        error = missing_required(sobject, values)
        if error:
            raise error
        store = self._store
        record_id = store.ids.next_id(sobject.key_prefix)
        now = format_datetime(store.clock())
        record = {"Id": record_id, "CreatedDate": now, "LastModifiedDate": now, "SystemModstamp": now, **values}
        self._write(sobject, record_id, None, record, "create")
        return record_id

    def update(self, sobject: SObjectType, record_id: str, body: Mapping) -> None:
        store = self._store
        record_id = normalise(record_id) or record_id
        old = store._table(sobject).get(record_id)
        if old is None:
            raise not_found(f"Provided external ID field does not exist or is not accessible: {record_id}")
        now = format_datetime(store.clock())
        record = {**old, **writable_values(sobject, body), "LastModifiedDate": now, "SystemModstamp": now}
        error = missing_required(sobject, record)
        if error:
            raise error
        self._write(sobject, record_id, old, record, "update")

    def upsert(self, sobject: SObjectType, field_name: str, value, body: Mapping) -> tuple[str, bool]:
        """Create or update the record whose external id `field_name` is `value`: (id, created)."""
        field = sobject.external_id_field(field_name)
        if field is None:
            raise not_found(f"Provided external ID field does not exist or is not accessible: {field_name}")
        if value is None or value == "":
            raise RecordError("MISSING_ARGUMENT", f"{field.name} not specified", [field.name])
        named = [v for k, v in body.items() if k.lower() == field.name.lower()]
        if named and _key(named[0]) != _key(value):
            raise RecordError(
                "INVALID_FIELD",
                f"{field.name} in the body ({named[0]}) does not match the external id in the URL ({value})",
                [field.name],
            )
        body = {k: v for k, v in body.items() if k.lower() != field.name.lower()}
        if field.type == ID:
            record_id = normalise(str(value))
            if record_id is None or record_id not in self._store._table(sobject):
                raise not_found()
            self.update(sobject, record_id, body)
            return record_id, False
        stored = coerce(field, value)
        matches = self._store.find(sobject, field.name, stored)
        if len(matches) > 1:
            raise MultipleMatches(sobject.name, field.name, str(value), matches)
        if matches:
            self.update(sobject, matches[0], body)
            return matches[0], False
        return self.create(sobject, {**body, field.name: stored}), True

    def delete(self, sobject: SObjectType, record_id: str) -> None:
        record_id = normalise(record_id) or record_id
        old = self._store._table(sobject).get(record_id)
        if old is None and record_id in self._store._object_of:
            raise RecordError("ENTITY_IS_DELETED", "entity is deleted", http_status=404)
        if old is None:
            raise not_found()
        self._write(sobject, record_id, old, None, "delete")

    def publish(self, sobject: SObjectType, body: Mapping) -> str:
        values = writable_values(sobject, body)
        error = missing_required(sobject, values)
        if error:
            raise error
        store = self._store
        events = store._events[sobject.name]
        event_id = store.ids.next_id(sobject.key_prefix)
        event = {
            "ReplayId": str(store._next_replay_id()),
            "EventUuid": str(uuid.uuid4()),
            "CreatedDate": format_datetime(store.clock()),
            **values,
        }
        events.append(event)
        self._log.append((events.pop, event_id, {}))  # events keep no per-record history
        self.event_uuids[event_id] = event["EventUuid"]
        return event_id

    def _write(self, sobject: SObjectType, record_id: str, old: dict | None, new: dict | None, operation: str) -> None:
        store = self._store
        if new is not None:
            store._check_unique(sobject, record_id, new)
        store._put(sobject, record_id, new)
        store._object_of[record_id] = sobject.name
        fields = new or old
        assert fields is not None  # a write has a new record, an old one, or both
        entry = {"time": format_datetime(store.clock()), "operation": operation, "fields": dict(fields)}
        self._log.append((lambda: store._put(sobject, record_id, old), record_id, entry))


class RecordStore:
    def __init__(self, objects: Iterable[SObjectType], *, clock: Callable[[], datetime]) -> None:
        self.objects = {o.name: o for o in objects}
        self.clock = clock
        self.ids = IdSequence()
        self._lock = threading.RLock()
        self._clear()

    def _clear(self) -> None:
        self._records: dict[str, dict[str, dict]] = defaultdict(dict)  # object -> id -> values
        self._index: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        # Bounded, so a long-running demo or benchmark does not grow without end: the newest writes of
        # each record and the newest events of each kind are what tests and operators look at.
        self._history: dict[str, deque[dict]] = defaultdict(lambda: deque(maxlen=HISTORY_PER_RECORD))
        self._object_of: dict[str, str] = {}  # every id ever written (deleted ones too) -> object name
        self._events: dict[str, deque[dict]] = defaultdict(lambda: deque(maxlen=EVENTS_KEPT))
        self._replay_id = 0

    def sobject(self, name: str) -> SObjectType | None:
        """The object called `name` (case-insensitive, like Salesforce)."""
        return self.objects.get(name) or next((o for n, o in self.objects.items() if n.lower() == name.lower()), None)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Writes inside are committed at the end, or rolled back when the block raises."""
        with self._lock:
            transaction = Transaction(self)
            try:
                yield transaction
            except BaseException:
                transaction.rollback_to(0)
                raise
            transaction.commit()

    # --- reads (copies, safe to hand out) ------------------------------------------------------------

    def get(self, sobject: SObjectType, record_id: str) -> dict | None:
        with self._lock:
            record = self._table(sobject).get(normalise(record_id) or record_id)
            return dict(record) if record is not None else None

    def records(self, sobject: SObjectType) -> list[dict]:
        with self._lock:
            return [dict(r) for r in self._table(sobject).values()]

    def find(self, sobject: SObjectType, field: str, value) -> list[str]:
        """Ids of the records whose `field` (an external id or unique field) equals `value`."""
        with self._lock:
            if field in self._indexed_fields(sobject):
                return sorted(self._index[(sobject.name, field)].get(_key(value), ()))
            return sorted(i for i, r in self._table(sobject).items() if r.get(field) == value)

    def history(self, object_name: str, record_id: str) -> list[dict]:
        record_id = normalise(record_id) or record_id
        with self._lock:
            if self._object_of.get(record_id) != object_name:
                return []
            return [dict(entry) for entry in self._history[record_id]]

    def history_by_value(self, object_name: str, field: str, value) -> list[dict]:
        """History of every record (deleted ones too) whose last written `field` was `value`."""
        with self._lock:
            ids = [
                i
                for i, name in self._object_of.items()
                if name == object_name
                and self._history.get(i)
                and _key(self._history[i][-1]["fields"].get(field)) == _key(value)
            ]
            return sorted((e for i in ids for e in self._history[i]), key=lambda e: e["time"])

    def events(self, name: str) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._events.get(name, ())]

    def clear(self) -> None:
        with self._lock:
            self._clear()

    # --- internals (callers hold the lock) -----------------------------------------------------------

    def _table(self, sobject: SObjectType) -> dict[str, dict]:
        return self._records[sobject.name]

    def _next_replay_id(self) -> int:
        self._replay_id += 1
        return self._replay_id

    def _indexed_fields(self, sobject: SObjectType) -> list[str]:
        return [f.name for f in sobject.fields.values() if f.external_id or f.unique]

    def _check_unique(self, sobject: SObjectType, record_id: str, record: Mapping) -> None:
        for field in (f for f in sobject.fields.values() if f.unique and record.get(f.name) is not None):
            others = self._index[(sobject.name, field.name)].get(_key(record[field.name]), set()) - {record_id}
            if others:
                raise RecordError(
                    "DUPLICATE_VALUE",
                    f"duplicate value found: {field.name} duplicates value on record with id: {min(others)}",
                    [],
                )

    def _put(self, sobject: SObjectType, record_id: str, record: dict | None) -> None:
        """Replace (or, with None, remove) one record, keeping the external id indexes right."""
        table = self._table(sobject)
        for field in self._indexed_fields(sobject):
            index = self._index[(sobject.name, field)]
            old = table.get(record_id, {}).get(field)
            if old is not None:
                index[_key(old)].discard(record_id)
                if not index[_key(old)]:
                    del index[_key(old)]
            if record is not None and record.get(field) is not None:
                index[_key(record[field])].add(record_id)
        if record is None:
            table.pop(record_id, None)
        else:
            table[record_id] = record
