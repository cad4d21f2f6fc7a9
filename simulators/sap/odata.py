"""OData v2 wire format of the simulator: resource paths, query options, JSON envelopes.

Query options: $filter (see filters.py), $select, $expand, $orderby, $top, $skip, $skiptoken
(server paging with `__next`), $inlinecount=allpages, $format=json. Anything else is a 400 SAP
error, never silently ignored.
Values: Edm.Decimal as JSON strings with the declared scale, Edm.DateTime as `/Date(ms)/`,
Edm.Time as `PT10H15M00S`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

from simulators.sap.entities import DATETIME, DECIMAL, TIME, EntityType
from simulators.sap.errors import ODataError
from simulators.sap.filters import Filter, bad_request, parse_filter, tokenize

KNOWN_OPTIONS = frozenset(
    {"$filter", "$select", "$expand", "$orderby", "$top", "$skip", "$skiptoken", "$inlinecount", "$format"}
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- values ----------------------------------------------------------------------------------------


def json_value(edm_type: str, value, scale: int | None = None):
    if value is None:
        return None
    if edm_type == DECIMAL:
        return f"{Decimal(value):.{scale if scale is not None else 3}f}"
    if edm_type == DATETIME:
        return f"/Date({int((value - _EPOCH).total_seconds() * 1000)})/"
    if edm_type == TIME:
        return f"PT{value.hour:02d}H{value.minute:02d}M{value.second:02d}S"
    return value


def literal(value) -> str:
    """A key value in URL literal form ('text' with quotes doubled)."""
    return "'" + str(value).replace("'", "''") + "'"


def key_predicate(entity: EntityType, row: Mapping) -> str:
    if len(entity.keys) == 1:
        return f"({literal(row[entity.keys[0]])})"
    return "(" + ",".join(f"{k}={literal(row[k])}" for k in entity.keys) + ")"


def entity_json(
    entity: EntityType,
    row: Mapping,
    service_url: str,
    *,
    select: frozenset[str] | None = None,
    expanded: Mapping[str, tuple[EntityType, Sequence[Mapping]]] | None = None,
) -> dict:
    """One entity in SAP's JSON: `__metadata` first, properties, navigation deferred or expanded."""
    uri = f"{service_url}/{entity.set_name}{key_predicate(entity, row)}"
    service_name = service_url.rsplit("/", 1)[-1]
    body: dict = {"__metadata": {"id": uri, "uri": uri, "type": f"{service_name}.{entity.name}"}}
    for prop in entity.properties:
        if select is None or prop.name in select:
            body[prop.name] = json_value(prop.edm_type, row.get(prop.name), prop.scale)
    for nav in entity.navigation:
        if select is not None and nav.name not in select:
            continue
        if expanded and nav.name in expanded:
            target, rows = expanded[nav.name]
            body[nav.name] = {"results": [entity_json(target, r, service_url) for r in rows]}
        else:
            body[nav.name] = {"__deferred": {"uri": f"{uri}/{nav.name}"}}
    return body


# --- resource paths --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    name: str  # entity set or function import
    key: dict[str, str] | None = None
    navigation: str | None = None
    count: bool = False


_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<key>.*)\))?$", re.S)


def _split_segments(path: str) -> list[str]:
    segments: list[str] = []
    current: list[str] = []
    quoted = False
    for char in path:
        if char == "'":
            quoted = not quoted
        if char == "/" and not quoted:
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    segments.append("".join(current))
    return [s for s in segments if s != ""]


def _key_values(text: str) -> list[tuple[str | None, str]]:
    tokens = tokenize(text)
    pairs: list[tuple[str | None, str]] = []
    index = 0
    while index < len(tokens):
        name: str | None = None
        if index + 1 < len(tokens) and tokens[index][0] == "name" and tokens[index + 1] == ("op", "="):
            name, index = str(tokens[index][1]), index + 2
        if index >= len(tokens) or tokens[index][0] not in ("string", "number", "typed"):
            raise bad_request(f"Invalid key predicate ({text})")
        token = tokens[index]
        pairs.append((name, str(token[1])))  # a string token's value is already its text
        index += 1
        if index < len(tokens):
            if tokens[index] != ("punct", ","):
                raise bad_request(f"Invalid key predicate ({text})")
            index += 1
    return pairs


def parse_resource(path: str, entity_sets: Mapping[str, EntityType]) -> Resource:
    """`A_Set`, `A_Set(keys)`, `A_Set(keys)/to_Nav`, with an optional trailing `/$count`."""
    segments = _split_segments(path)
    count = bool(segments) and segments[-1] == "$count"
    if count:
        segments = segments[:-1]
    if not segments or len(segments) > 2:
        raise ODataError(404, "/IWBEP/CM_MGW_RT/021", f"Resource not found for segment '{path}'")
    match = _SEGMENT.match(segments[0])
    if not match:
        raise ODataError(404, "/IWBEP/CM_MGW_RT/021", f"Resource not found for segment '{segments[0]}'")
    name, key_text = match.group("name"), match.group("key")
    key = None
    entity = entity_sets.get(name)
    if key_text is not None:
        if entity is None:
            raise ODataError(404, "/IWBEP/CM_MGW_RT/021", f"Resource not found for segment '{name}'")
        pairs = _key_values(key_text)
        if len(pairs) == 1 and pairs[0][0] is None and len(entity.keys) == 1:
            key = {entity.keys[0]: pairs[0][1]}
        else:
            unnamed = any(n is None for n, _ in pairs)
            key = {n: v for n, v in pairs if n is not None}
            if unnamed or set(key) != set(entity.keys):
                raise bad_request(f"Key of {entity.name} must name exactly: {', '.join(entity.keys)}")
    navigation = segments[1] if len(segments) == 2 else None
    if navigation is not None and (key is None or entity is None or entity.nav(navigation) is None):
        raise ODataError(404, "/IWBEP/CM_MGW_RT/021", f"Resource not found for segment '{navigation}'")
    return Resource(name, key, navigation, count)


# --- query options ---------------------------------------------------------------------------------


def _non_negative(name: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise bad_request(f"System query option {name} must be a non-negative integer, not '{raw}'")
    return int(raw)


@dataclass
class QueryOptions:
    where: Filter | None = None
    order: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    select: frozenset[str] | None = None
    expand: tuple[str, ...] = ()
    top: int | None = None
    skip: int | None = None
    skiptoken: int | None = None
    inlinecount: bool = False


def parse_options(args: Mapping[str, str], entity: EntityType, *, collection: bool) -> QueryOptions:
    unknown = sorted(name for name in args if name.startswith("$") and name not in KNOWN_OPTIONS)
    if unknown:
        raise bad_request(f"System query option '{unknown[0]}' is not supported")
    if args.get("$format", "json").lower() != "json":
        raise bad_request("The simulator answers in JSON only ($format=json)")
    options = QueryOptions()
    expand = [e.strip() for e in args.get("$expand", "").split(",") if e.strip()]
    for name in expand:
        if entity.nav(name) is None:
            raise bad_request(f"Navigation property {name} not found in type {entity.name}")
    options.expand = tuple(expand)
    if "$select" in args:
        selected = [s.strip() for s in args["$select"].split(",") if s.strip()]
        if "*" not in selected:
            for name in selected:
                base = name.split("/", 1)[0]
                if entity.property(base) is None and entity.nav(base) is None:
                    raise bad_request(f"Property {name} not found in type {entity.name}")
            options.select = frozenset(s.split("/", 1)[0] for s in selected)
    if not collection:
        collection_only = sorted(set(args) & {"$filter", "$orderby", "$top", "$skip", "$skiptoken", "$inlinecount"})
        if collection_only:
            raise bad_request(f"System query option {collection_only[0]} is only allowed on collections")
        return options
    if args.get("$filter", "").strip():
        options.where = parse_filter(args["$filter"], entity)
    for clause in (c.strip() for c in args.get("$orderby", "").split(",")):
        if not clause:
            continue
        parts = clause.split()
        if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise bad_request(f"Invalid $orderby clause '{clause}'")
        if entity.property(parts[0]) is None:
            raise bad_request(f"Property {parts[0]} not found in type {entity.name}")
        options.order.append((parts[0], len(parts) == 2 and parts[1].lower() == "desc"))
    options.top = _non_negative("$top", args.get("$top"))
    options.skip = _non_negative("$skip", args.get("$skip"))
    options.skiptoken = _non_negative("$skiptoken", args.get("$skiptoken"))
    inlinecount = args.get("$inlinecount")
    if inlinecount not in (None, "allpages", "none"):
        raise bad_request(f"$inlinecount must be allpages or none, not '{inlinecount}'")
    options.inlinecount = inlinecount == "allpages"
    return options


def _sort_key(value):
    # None sorts first; booleans and everything else compare within their own type.
    return (value is not None, value if value is not None else 0)


@dataclass
class Page:
    rows: list
    total: int
    next_skiptoken: int | None


def select_rows(rows: Sequence[Mapping], options: QueryOptions, entity: EntityType, page_size: int) -> Page:
    """Filter, order (by key when no $orderby, so pages are stable), then one page of rows."""
    if options.where is not None:
        rows = [row for row in rows if options.where(row)]
    rows = sorted(rows, key=lambda row: tuple(row.get(k) for k in entity.keys))
    for name, descending in reversed(options.order):
        rows.sort(key=lambda row: _sort_key(row.get(name)), reverse=descending)
    total = len(rows)
    start = options.skiptoken if options.skiptoken is not None else (options.skip or 0)
    if options.top is not None:
        return Page(rows[start : start + options.top], total, None)
    end = start + page_size
    return Page(rows[start:end], total, end if end < total else None)


def next_link(base_url: str, args: Mapping[str, str], skiptoken: int) -> str:
    """`__next`: the same request (filter, order, select, …) continuing at `skiptoken`."""
    kept = [(k, v) for k, v in args.items() if k not in ("$skiptoken", "$skip")]
    kept.append(("$skiptoken", str(skiptoken)))
    query = "&".join(f"{quote(k, safe='$')}={quote(v, safe=chr(39) + '(),:$')}" for k, v in kept)
    return f"{base_url}?{query}"
