"""Pure rules of contact methods and notification rules."""
from __future__ import annotations

from typing import Any

import pytest

from core.errors import FieldError
from core.people.rules import ContactMethod, Rule, parse_method, parse_rules, plan, urgency_of


@pytest.mark.parametrize("body, field", [
    ({"type": "pager", "address": "x"}, "type"),
    ({"type": "sms", "address": "5551234567"}, "address"),
    ({"type": "voice", "address": "+1 555 123"}, "address"),
    ({"type": "email", "address": "olga"}, "address"),
    ({"type": "slack", "address": "olga"}, "address"),
    ({"type": "sms"}, "address"),
    ({"type": "sms", "address": "+15551234567", "label": 7}, "label"),
    ({"type": "sms", "address": "+15551234567", "colour": "red"}, "colour"),
    ([], "body"),
])
def test_bad_contact_methods_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_method(body)
    assert err.value.field == field


def test_contact_methods_are_normalised() -> None:
    assert parse_method({"type": "email", "address": " Olga@Example.com "}) == ContactMethod(
        "email", "olga@example.com")
    assert parse_method({"type": "slack", "address": "U024BE7LH", "label": "me"}).label == "me"


METHODS = {1: "sms", 2: "voice", 3: "email", 4: "slack"}


@pytest.mark.parametrize("rules, field", [
    ([{"urgency": "urgent", "contact_method_id": 1, "delay_s": 0}], "rules[0].urgency"),
    ([{"urgency": "high", "contact_method_id": 9, "delay_s": 0}], "rules[0].contact_method_id"),
    ([{"urgency": "high", "contact_method_id": 1, "delay_s": -60}], "rules[0].delay_s"),
    ([{"urgency": "high", "contact_method_id": 1, "delay_s": 86401}], "rules[0].delay_s"),
    ([{"urgency": "high", "contact_method_id": 1}] * 2, "rules[1]"),
    ("all", "rules"),
])
def test_bad_rules_name_the_field(rules: Any, field: str) -> None:
    with pytest.raises(FieldError) as err:
        parse_rules({"rules": rules}, METHODS)
    assert err.value.field == field


def test_a_page_follows_the_rules_of_its_urgency_in_delay_order() -> None:
    rules = parse_rules([{"urgency": "high", "contact_method_id": 3, "delay_s": 300},
                         {"urgency": "high", "contact_method_id": 1, "delay_s": 0},
                         {"urgency": "high", "contact_method_id": 2, "delay_s": 120},
                         {"urgency": "low", "contact_method_id": 3, "delay_s": 0}], METHODS)
    methods = {1: ContactMethod("sms", "+15551234567"), 2: ContactMethod("voice", "+15551234567"),
               3: ContactMethod("email", "olga@example.com")}
    assert [(m.type, d) for _, m, d in plan("critical", rules, methods)] == [
        ("sms", 0), ("voice", 120), ("email", 300)]
    assert [(m.type, d) for _, m, d in plan("medium", rules, methods)] == [("email", 0)]
    assert plan("info", [Rule("high", 1, 0)], methods) == []
    assert [urgency_of(s) for s in ("critical", "high", "medium", "low", "info")] == [
        "high", "high", "low", "low", "low"]
