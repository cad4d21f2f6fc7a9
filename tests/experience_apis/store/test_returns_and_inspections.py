"""Customer returns go into quality inspection; an inspection passes units to sellable stock or
fails them to blocked stock; each is one canonical event whose id makes a repeat count once."""

from __future__ import annotations

import pytest

from tests.support.experience import MAX_UNITS_PER_LINE, SKU, assert_problem, count

RETURNS = "/store/v1/stores/S001/returns"
INSPECTIONS = "/store/v1/stores/S001/inspections"
POSITION = f"/store/v1/stores/S001/products/{SKU}"


@pytest.fixture
def stocked(process):
    count(process, "S001", 10)


def stock(client) -> dict:
    position = client.get(POSITION).get_json()
    return {name: position[name] for name in ("on_hand", "sellable", "in_inspection", "blocked")}


def test_a_return_goes_into_inspection_and_is_not_sellable(s001, stocked):
    before = stock(s001)

    response = s001.post(RETURNS, json={"return_id": "R-1", "sku": SKU, "quantity": 3, "reason": "defective"})

    assert response.status_code == 201
    assert response.get_json() == {
        "store_id": "S001",
        "event_id": "store:S001:return:R-1",
        "type": "stock.returned",
        "outcome": "applied",
        "sku": SKU,
        "quantity": 3,
        "return_id": "R-1",
        "reason": "defective",
    }
    assert stock(s001) == {**before, "in_inspection": before["in_inspection"] + 3}


def test_a_repeated_return_counts_once(s001, stocked):
    first = s001.post(RETURNS, json={"return_id": "R-1", "sku": SKU, "quantity": 3})
    after_first = stock(s001)

    repeat = s001.post(RETURNS, json={"return_id": "R-1", "sku": SKU, "quantity": 3})

    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.get_json()["outcome"] == "duplicate"
    assert stock(s001) == after_first


def test_return_ids_belong_to_their_store(s001, s002, stocked):
    s001.post(RETURNS, json={"return_id": "R-1", "sku": SKU, "quantity": 1})

    other = s002.post("/store/v1/stores/S002/returns", json={"return_id": "R-1", "sku": SKU, "quantity": 1})

    assert other.status_code == 201
    assert other.get_json()["event_id"] == "store:S002:return:R-1"


def test_inspection_pass_makes_units_sellable_and_fail_blocks_them(s001, stocked):
    s001.post(RETURNS, json={"return_id": "R-1", "sku": SKU, "quantity": 3})
    before = stock(s001)

    passed = s001.post(INSPECTIONS, json={"inspection_id": "QI-1", "sku": SKU, "quantity": 2, "outcome": "pass"})
    after_pass = stock(s001)
    failed = s001.post(INSPECTIONS, json={"inspection_id": "QI-2", "sku": SKU, "quantity": 1, "outcome": "fail"})

    assert (passed.status_code, failed.status_code) == (201, 201)
    assert (passed.get_json()["type"], failed.get_json()["type"]) == ("inspection.passed", "inspection.failed")
    assert after_pass == {
        "on_hand": before["on_hand"] + 2,
        "sellable": before["sellable"] + 2,
        "in_inspection": before["in_inspection"] - 2,
        "blocked": before["blocked"],
    }
    assert stock(s001) == {
        **after_pass,
        "in_inspection": after_pass["in_inspection"] - 1,
        "blocked": after_pass["blocked"] + 1,
    }


def test_a_repeated_inspection_counts_once_whatever_its_outcome(s001, stocked):
    s001.post(RETURNS, json={"return_id": "R-1", "sku": SKU, "quantity": 3})
    s001.post(INSPECTIONS, json={"inspection_id": "QI-1", "sku": SKU, "quantity": 2, "outcome": "pass"})
    after_first = stock(s001)

    repeat = s001.post(INSPECTIONS, json={"inspection_id": "QI-1", "sku": SKU, "quantity": 2, "outcome": "fail"})

    assert repeat.status_code == 200
    assert repeat.get_json()["outcome"] == "duplicate"
    assert stock(s001) == after_first


@pytest.mark.parametrize(
    "path, body, field",
    [
        (RETURNS, {"return_id": "R-1", "sku": SKU, "quantity": MAX_UNITS_PER_LINE + 1}, "quantity"),
        (RETURNS, {"return_id": "R-1", "sku": SKU, "quantity": 0}, "quantity"),
        (RETURNS, {"return_id": "R-1", "sku": SKU, "quantity": 1.5}, "quantity"),
        (RETURNS, {"return_id": "R 1", "sku": SKU, "quantity": 1}, "return_id"),
        (RETURNS, {"return_id": "R-1", "sku": "MAT{1}", "quantity": 1}, "sku"),
        (RETURNS, {"return_id": "x" * 65, "sku": SKU, "quantity": 1}, "return_id"),
        (RETURNS, {"return_id": "R-1", "sku": SKU, "quantity": 1, "reason": "changed mind"}, "reason"),
        (RETURNS, {"return_id": "R-1", "sku": SKU, "quantity": 1, "location": "S002"}, "location"),
        (INSPECTIONS, {"inspection_id": "QI-1", "sku": SKU, "quantity": 1, "outcome": "maybe"}, "outcome"),
        (
            INSPECTIONS,
            {"inspection_id": "QI-1", "sku": SKU, "quantity": MAX_UNITS_PER_LINE + 1, "outcome": "pass"},
            "quantity",
        ),
        (INSPECTIONS, {"sku": SKU, "quantity": 1, "outcome": "pass"}, "inspection_id"),
    ],
)
def test_invalid_or_oversized_movements_are_refused_and_change_nothing(s001, stocked, path, body, field):
    before = stock(s001)

    problem = assert_problem(s001.post(path, json=body), 422)

    assert field in problem["errors"]["json"]
    assert stock(s001) == before


def test_the_unit_limit_is_the_settings_max_units_per_line(s001, stocked):
    problem = assert_problem(s001.post(RETURNS, json={"return_id": "R-1", "sku": SKU, "quantity": 6}), 422)

    assert problem["errors"]["json"]["quantity"] == [f"Must be at most {MAX_UNITS_PER_LINE} (MAX_UNITS_PER_LINE)."]
    assert s001.post(RETURNS, json={"return_id": "R-1", "sku": SKU, "quantity": 5}).status_code == 201


@pytest.mark.parametrize("text", ["x\n", "x\u0000", "\ud800"])
@pytest.mark.parametrize(("path", "field"), [(RETURNS, "return_id"), (INSPECTIONS, "inspection_id")])
def test_an_id_with_a_control_character_is_422_naming_it_and_moves_no_stock(s001, stocked, path, field, text):
    body = {field: text, "sku": SKU, "quantity": 1, **({"outcome": "pass"} if path == INSPECTIONS else {})}
    before = stock(s001)

    problem = assert_problem(s001.post(path, json=body), 422)

    assert field in problem["errors"]["json"]
    assert stock(s001) == before
