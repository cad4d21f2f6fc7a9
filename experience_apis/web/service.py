"""The web shop's logic: availability shaped for shoppers, and carts whose holds are the web channel's
reservations in the process API, owned by the web client that made them.

Ownership is in the reservation's external reference: `web:{client_id}:cart:{cart_id}` (and
`web:{client_id}:order:{order_id}` after checkout). Every look-up goes by that reference, so one web
client never finds, lists or releases another's holds; a hold id of another cart is "not found".
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from experience_apis.fields import reservation_ttl
from shared.errors import Problem

from ..settings import ExperienceSettings
from . import bands
from .client import CHANNEL, WebInventory, upstream_key
from .documents import DocumentCache
from .http_cache import Document
from .pickup import nearby_pickup_stores
from .postal_codes import PostalCodes, normalise

#: The process API's longest external reference.
MAX_EXTERNAL_REF = 128
HOLD_NOT_FOUND = "hold-not-found"
#: Distinct availability questions whose documents a process keeps.
ANSWERS_KEPT = 4096


@dataclass(frozen=True)
class WebShop:
    """What the web API needs, wired once in app.py; `answers` keeps recent availability documents
    (WEB_AVAILABILITY_CACHE_SECONDS, None = off)."""

    settings: ExperienceSettings
    inventory: WebInventory
    postal_codes: PostalCodes
    answers: DocumentCache | None = None

    @classmethod
    def create(cls, settings: ExperienceSettings, inventory: WebInventory, postal_codes: PostalCodes) -> WebShop:
        seconds = settings.web_availability_cache_seconds
        return cls(settings, inventory, postal_codes, DocumentCache(seconds, ANSWERS_KEPT) if seconds else None)


# availability ------------------------------------------------------------------------------------
def availability_document(shop: WebShop, *, skus: list[str], postal_code: str | None, question: bytes) -> Document:
    """The JSON document of `availability` and its ETag, kept for WEB_AVAILABILITY_CACHE_SECONDS under
    `question` (the request's query string, which alone decides the answer): asked again meanwhile, it
    is answered without the process API (`cached_document`). A band shown a second or two late is harmless
    (clients may cache it WEB_CACHE_MAX_AGE_SECONDS anyway), and holds and checkout always ask the
    process API, which alone decides what can be reserved."""
    document = Document.of(availability(shop, skus=skus, postal_code=postal_code))
    if shop.answers is not None:
        shop.answers.put(question, document)
    return document


def cached_document(shop: WebShop, question: bytes) -> Document | None:
    """The document kept for `question`, if one may answer it (see documents.DocumentCache)."""
    return shop.answers.get(question) if shop.answers is not None else None


def availability(shop: WebShop, *, skus: list[str], postal_code: str | None) -> dict:
    """Per SKU: the web network's band and capped quantity and, near `postal_code`, the pickup stores'."""
    settings, cap = shop.settings, shop.settings.web_display_cap
    skus = list(dict.fromkeys(skus))
    match = stores = None
    if postal_code is not None:
        match = shop.postal_codes.resolve(postal_code)
        if match is None:
            raise Problem(
                422,
                f"Postal code {postal_code} is not known, nor any code sharing its first digits.",
                type_slug="unknown-postal-code",
                errors={"query": {"postal_code": ["unknown postal code"]}},
            )
        stores = nearby_pickup_stores(shop.inventory.locations(), match.point, settings.web_pickup_radius_km)
    network = shop.inventory.group_availability(skus, settings.web_network_group)
    positions = shop.inventory.position_availability(skus, [store.id for store in stores or ()])

    def shown(found: dict | None) -> dict:
        return bands.shown(found, cap) if found is not None else dict(bands.NOTHING)

    items = []
    for sku in skus:
        ship = shown(network.get(sku))
        items.append(
            {
                "sku": sku,
                **ship,
                "ship_to_home": ship["status"] != bands.OUT_OF_STOCK,
                "pickup_stores": None
                if stores is None
                else [
                    {
                        "store": store.id,
                        "name": store.name,
                        "distance_km": store.distance_km,
                        **shown(positions.get((sku, store.id))),
                    }
                    for store in stores
                ],
            }
        )
    return {
        "postal_code": normalise(postal_code) if postal_code is not None else None,
        "matched_postal_code": match.postal_code if match else None,
        "items": items,
    }


# holds -------------------------------------------------------------------------------------------
def external_ref(client_id: str, kind: str, identifier: str) -> str:
    """The process-API reference of a web client's cart or order. Client and cart ids hold no ":",
    so the readable form names one (client, kind, id) only; one too long for the process API is
    replaced by its digest, in a namespace ("web#") no readable reference can enter."""
    ref = f"web:{client_id}:{kind}:{identifier}"
    return ref if len(ref) <= MAX_EXTERNAL_REF else "web#" + hashlib.sha256(ref.encode()).hexdigest()


def check_limits(settings: ExperienceSettings, lines: list[dict]) -> None:
    """The abuse limits of one hold (OWASP API4/API6): 422 naming the list, or every line, over them."""
    detail = (
        f"A hold may have at most {settings.max_lines_per_reservation} lines, each SKU once and at most "
        f"{settings.max_units_per_line} units per line."
    )
    if len(lines) > settings.max_lines_per_reservation:
        raise Problem(
            422,
            detail,
            type_slug="hold-limits",
            errors={"json": {"lines": [f"at most {settings.max_lines_per_reservation} lines per hold"]}},
        )
    errors: dict[str, dict] = {}
    seen: set[str] = set()
    for index, line in enumerate(lines):
        messages = {}
        if line["quantity"] > settings.max_units_per_line:
            messages["quantity"] = [f"at most {settings.max_units_per_line} units per line"]
        if line["sku"] in seen:
            messages["sku"] = ["each SKU once per hold"]
        seen.add(line["sku"])
        if messages:
            errors[str(index)] = messages
    if errors:
        raise Problem(422, detail, type_slug="hold-limits", errors={"json": {"lines": errors}})


def _now() -> datetime:
    return datetime.now(UTC)


def _live(reservation: dict, now: datetime) -> bool:
    """Active and not past its expiry (the process API's sweeper releases it within a second or so)."""
    expires_at = reservation.get("expires_at")
    return reservation["status"] == "active" and (expires_at is None or datetime.fromisoformat(expires_at) > now)


def hold_view(reservation: dict, cart_id: str) -> dict:
    lines = reservation["lines"]
    store = next((line["location"] for line in lines if line.get("location")), None)
    status = reservation["status"] if reservation["status"] in ("active", "released", "expired") else "ended"
    return {
        "id": reservation["id"],
        "cart_id": cart_id,
        "status": status,
        "fulfilment": "pickup" if store else "ship",
        "store": store,
        "lines": [{"sku": line["sku"], "quantity": line["reserved"]} for line in lines],
        "created_at": reservation["created_at"],
        "expires_at": reservation.get("expires_at"),
    }


def _active(shop: WebShop, ref: str) -> list[dict]:
    now = _now()
    found = [r for r in shop.inventory.active_reservations(ref) if _live(r, now)]
    return sorted(found, key=lambda r: (r["created_at"], r["id"]))


def cart_holds(shop: WebShop, *, client_id: str, cart_id: str) -> list[dict]:
    return [hold_view(r, cart_id) for r in _active(shop, external_ref(client_id, "cart", cart_id))]


def _pickup_store(shop: WebShop, store_id: str) -> None:
    location = next((loc for loc in shop.inventory.locations() if loc["id"] == store_id), None)
    if (
        location is None
        or location.get("type") != "store"
        or "pickup" not in location.get("fulfilment_methods", ())
        or CHANNEL not in location.get("channels", ())
    ):
        raise Problem(
            422,
            f"{store_id} is not a store the web shop offers pickup at.",
            type_slug="not-a-pickup-store",
            errors={"json": {"store": ["not a web pickup store"]}},
        )


def create_hold(shop: WebShop, *, client_id: str, cart_id: str, request: dict, idempotency_key: str) -> dict:
    """Hold every line for the cart, all or nothing, for WEB_HOLD_TTL_SECONDS (at most
    RESERVATION_MAX_TTL_SECONDS)."""
    settings = shop.settings
    check_limits(settings, request["lines"])
    if request["fulfilment"] == "pickup":
        _pickup_store(shop, request["store"])
        place = {"location": request["store"]}
    else:
        place = {"location_group": settings.web_network_group}
    ref = external_ref(client_id, "cart", cart_id)
    # Checked, then held: two holds racing for the last slot may both pass (the rate limit bounds it).
    if len(_active(shop, ref)) >= settings.max_holds_per_cart:
        raise Problem(
            409,
            f"Cart {cart_id} already has {settings.max_holds_per_cart} active holds, the most a cart "
            "may have; release one or check out first.",
            type_slug="too-many-holds",
        )
    body = {
        "external_ref": ref,
        "ttl_seconds": reservation_ttl(settings, "web_hold_ttl_seconds"),
        "created_by": client_id,
        "lines": [{"sku": line["sku"], "quantity": line["quantity"], **place} for line in request["lines"]],
        "channel": CHANNEL,
    }
    try:
        reservation = shop.inventory.reserve(
            body, idempotency_key=upstream_key("hold", client_id, cart_id, idempotency_key)
        )
    except Problem as problem:
        if problem.status == 409 and "shortfalls" in problem.extensions:
            raise _short(problem, settings.web_display_cap) from None
        if problem.status == 409 and "limits" in problem.extensions:
            raise _over_share(problem, settings.web_display_cap) from None
        raise
    return hold_view(reservation, cart_id)


def _short(problem: Problem, cap: int) -> Problem:
    """The process API's shortfalls without its exact counts: what is left shows as the shop shows it."""
    shortfalls = [
        {
            "line": short["line"],
            "sku": short["sku"],
            "requested": short["requested"],
            "available": bands.display_quantity(short["available"], cap),
        }
        for short in problem.extensions["shortfalls"]
    ]
    return Problem(
        409, "Not enough stock for every line; nothing was held.", type_slug="insufficient-stock", shortfalls=shortfalls
    )


def _over_share(problem: Problem, cap: int) -> Problem:
    """The process API's hold-share refusal without its exact counts: per line, how many more units
    the cart may hold, as the shop shows quantities."""
    lines = [
        {
            "line": over["line"],
            "sku": over["sku"],
            "requested": over["requested"],
            "may_add": bands.display_quantity(over["limit"] - over["held"], cap),
        }
        for over in problem.extensions["limits"]
    ]
    return Problem(
        409,
        "A cart may hold only part of a product's stock, and this hold would take it past that; nothing was held.",
        type_slug="hold-share-exceeded",
        limits=lines,
    )


def cart_hold(shop: WebShop, *, client_id: str, cart_id: str, hold_id: str) -> dict:
    """The hold, when it is one of this client's cart (any status); else 404."""
    reservation = shop.inventory.find_reservation(hold_id)
    if (
        reservation is None
        or reservation.get("channel") != CHANNEL
        or reservation.get("external_ref") != external_ref(client_id, "cart", cart_id)
    ):
        raise Problem(404, f"Cart {cart_id} has no hold {hold_id}.", type_slug=HOLD_NOT_FOUND)
    return reservation


def release_hold(shop: WebShop, *, client_id: str, cart_id: str, hold_id: str) -> None:
    """Release the hold; one already ended (released, expired) stays so, and answers the same."""
    reservation = cart_hold(shop, client_id=client_id, cart_id=cart_id, hold_id=hold_id)
    if reservation["status"] != "active":
        return
    try:
        shop.inventory.release(hold_id, idempotency_key=upstream_key("release", client_id, hold_id))
    except Problem as problem:
        if not _ended(problem):  # it ended meanwhile (expired): what was asked
            raise


def _ended(problem: Problem) -> bool:
    """The process API's answer that the reservation is no longer active."""
    return problem.status == 409 and problem.type.endswith("/reservation-state")


# checkout ----------------------------------------------------------------------------------------
def checkout(shop: WebShop, *, client_id: str, cart_id: str, order_id: str) -> dict:
    """Make every active hold of the cart the order's reservation: re-keyed to the order, with the
    order's lifetime. Safe to repeat: a hold already moved is found under the order, so a retry after
    a failure half-way completes the move and answers for the whole order."""
    settings = shop.settings
    order_ref = external_ref(client_id, "order", order_id)
    for hold in _active(shop, external_ref(client_id, "cart", cart_id)):
        try:
            shop.inventory.amend(
                hold["id"],
                external_ref=order_ref,
                ttl_seconds=reservation_ttl(settings, "order_reservation_ttl_seconds"),
                idempotency_key=upstream_key("checkout", client_id, order_id, hold["id"]),
            )
        except Problem as problem:
            if not _ended(problem):  # it expired this very moment: the order goes without it
                raise
    reservations = _active(shop, order_ref)
    if not reservations:
        raise Problem(409, f"Cart {cart_id} has no active holds to check out.", type_slug="empty-cart")
    return order_view(order_id, reservations)


def order_view(order_id: str, reservations: list[dict]) -> dict:
    units: dict[tuple[str, str | None], int] = defaultdict(int)
    for reservation in reservations:
        for line in reservation["lines"]:
            units[(line["sku"], line.get("location"))] += line["reserved"]
    return {
        "order_id": order_id,
        "reservation_ids": [r["id"] for r in reservations],
        "lines": [
            {"sku": sku, "quantity": quantity, "fulfilment": "pickup" if store else "ship", "store": store}
            for (sku, store), quantity in units.items()
            if quantity
        ],
        "expires_at": min(r["expires_at"] for r in reservations),
    }
