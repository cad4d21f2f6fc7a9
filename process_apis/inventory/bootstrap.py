"""Wiring in one place: builds the stores the inventory services work with."""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from redis.cluster import RedisCluster

from .adapters.catalogue import CatalogueStore
from .adapters.changes import ChangeStream
from .adapters.dead_letters import DeadLetterStore
from .adapters.keys import Keys
from .adapters.leases import Leases
from .adapters.ledger import JournalPolicy, LedgerStore
from .adapters.near_cache import create_reads
from .adapters.published import PublishedValues
from .adapters.reservation_index import ReservationIndex
from .adapters.reservations import ReservationStore
from .adapters.rules_store import RulesStore
from .adapters.scripts import Scripts
from .service.reservations import TERMINAL_RETENTION_SECONDS
from .service.rules import parse_rule_set
from .settings import InventorySettings


@dataclass(frozen=True)
class Inventory:
    """The stores the inventory services work with, wired once by `bootstrap`. Redis is reached
    only through them: each says in domain words what it reads or writes."""

    settings: InventorySettings
    ledger: LedgerStore
    catalogue: CatalogueStore
    rules: RulesStore
    dead_letters: DeadLetterStore
    reservations: ReservationStore
    reservation_index: ReservationIndex
    changes: ChangeStream
    published: PublishedValues
    leases: Leases


def bootstrap(settings: InventorySettings, redis: Redis | RedisCluster, *, prefix: str = "inv") -> Inventory:
    keys = Keys(prefix)
    scripts = Scripts(redis)
    policy = JournalPolicy(
        dedup_ttl_seconds=settings.dedup_ttl_seconds,
        journal_seconds=settings.delta_journal_seconds,
        journal_max=settings.delta_journal_max,
    )
    changes = ChangeStream(redis, keys)
    catalogue = CatalogueStore(redis, keys)
    rules = RulesStore(redis, keys, scripts, parse_rule_set)
    ledger = LedgerStore(
        redis,
        keys=keys,
        policy=policy,
        scripts=scripts,
        changes=changes,
        reads=create_reads(settings, redis),
        catalogue=catalogue,
        rules=rules,
    )
    reservation_index = ReservationIndex(
        redis, keys, scripts, by_ref_keep_seconds=TERMINAL_RETENTION_SECONDS + settings.reservation_max_ttl_seconds
    )
    return Inventory(
        settings=settings,
        ledger=ledger,
        catalogue=catalogue,
        rules=rules,
        dead_letters=DeadLetterStore(redis, keys, scripts),
        reservations=ReservationStore(
            redis, keys, scripts, ledger=ledger, index=reservation_index, catalogue=catalogue, rules=rules
        ),
        reservation_index=reservation_index,
        changes=changes,
        published=PublishedValues(redis, keys, catalogue=catalogue, rules=rules),
        leases=Leases(redis, keys, scripts),
    )
