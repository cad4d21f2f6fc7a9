"""What the publisher last sent Salesforce: per SKU (a hash under the SKU's tag) the value of each
outcome key, so only values that moved are sent; and the rule-set and catalogue versions whose
every consequence has been published."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NamedTuple

from ..domain.outcomes import OutcomeKey, OutcomeValue
from .catalogue import CatalogueStore
from .keys import Keys
from .rules_store import RulesStore

#: Stored while a batch holding the key is in flight: its fate is unknown until the 200.
_UNCONFIRMED = "?"
#: Equal to no value, so a key whose last send was never confirmed is sent again.
UNCONFIRMED = OutcomeValue(-1, -1, "unconfirmed")


def _field(key: OutcomeKey) -> str:
    # Location and group ids cannot hold "|" (domain/identifiers.py), so the channel is what follows the second.
    return f"G|{key.location_group}|{key.channel}" if key.location_group else f"L|{key.location}|{key.channel}"


def _key(sku: str, field: str) -> OutcomeKey:
    kind, place, channel = field.split("|", 2)
    return OutcomeKey(sku, None, place, channel) if kind == "G" else OutcomeKey(sku, place, None, channel)


def _value(text: str) -> OutcomeValue:
    if text == _UNCONFIRMED:
        return UNCONFIRMED
    sellable, orderable, status = text.split("|", 2)
    return OutcomeValue(int(sellable), int(orderable), status)


class Versions(NamedTuple):
    #: as read: what `CatalogueStore.current` and `RulesStore.current` take
    catalogue: Any
    rules: Any
    #: the versions whose every consequence was last published in full, and when
    published: dict[str, str]


class PublishedValues:
    def __init__(self, redis, keys: Keys, *, catalogue: CatalogueStore, rules: RulesStore) -> None:
        self.redis = redis
        self.keys = keys
        self.catalogue = catalogue
        self.rules = rules

    def read(self, skus: list[str]) -> dict[OutcomeKey, OutcomeValue]:
        pipe = self.redis.pipeline(transaction=False)
        for sku in skus:
            pipe.hgetall(self.keys.published(sku))
        return {
            _key(sku, field): _value(text)
            for sku, fields in zip(skus, pipe.execute())
            for field, text in fields.items()
        }

    def mark_unconfirmed(self, keys: list[OutcomeKey]) -> None:
        """Before a send: the receiver may take the batch even if this process dies before the
        answer, so until the 200 what it holds for these keys is unknown, and they are sent again."""
        by_sku: dict[str, dict[str, str]] = defaultdict(dict)
        for key in keys:
            by_sku[key.sku][_field(key)] = _UNCONFIRMED
        pipe = self.redis.pipeline(transaction=False)
        for sku, fields in by_sku.items():  # one command per SKU, not per key
            pipe.hset(self.keys.published(sku), mapping=fields)
        pipe.execute()

    def store(self, values: dict[OutcomeKey, OutcomeValue | None]) -> None:
        """Remember what was sent; a None value forgets the key."""
        sent: dict[str, dict[str, str]] = defaultdict(dict)
        forgotten: dict[str, list[str]] = defaultdict(list)
        for key, value in values.items():
            if value is None:
                forgotten[key.sku].append(_field(key))
            else:
                sent[key.sku][_field(key)] = f"{value.available_to_sell}|{value.available_to_order}|{value.status}"
        pipe = self.redis.pipeline(transaction=False)
        for sku, fields in sent.items():  # one command per SKU, not per key
            pipe.hset(self.keys.published(sku), mapping=fields)
        for sku, names in forgotten.items():
            pipe.hdel(self.keys.published(sku), *names)
        pipe.execute()

    def versions(self) -> Versions:
        """The catalogue's and the rules' versions now, and the versions last published in full,
        in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        self.catalogue.probe(pipe)
        self.rules.probe(pipe)
        pipe.hgetall(self.keys.published_versions)
        return Versions(*pipe.execute())

    def store_versions(self, versions: dict[str, str]) -> None:
        self.redis.hset(self.keys.published_versions, mapping=versions)
