"""`--as` parsing for the console."""

import pytest

from bot.types import Role
from integrations.console.principals import parse_principal


def test_linked_customer() -> None:
    p = parse_principal("customer:C-1001")
    assert p.customer_id == "C-1001" and p.roles == {Role.CUSTOMER} and not p.is_staff
    assert p.describe() == "customer:C-1001"


def test_unlinked_customer_employee_and_lead() -> None:
    assert parse_principal("customer").customer_id is None
    assert parse_principal("employee").is_staff
    lead = parse_principal("lead")
    assert lead.is_lead and lead.describe() == "lead"


@pytest.mark.parametrize(
    "spec", ["admin:x", "employee:C-1", "nobody", "customer:C 1001", "customer:" + "x" * 80]
)
def test_bad_principals_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_principal(spec)
