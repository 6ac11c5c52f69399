"""`--as` on the command line: who the operator speaks as in the console."""

from __future__ import annotations

import re

from bot.types import Principal, Role

PRINCIPAL_HELP = "customer:<customer id>, customer (not linked), employee or lead"
_CUSTOMER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def parse_principal(spec: str) -> Principal:
    """`customer:C-1001`, `customer`, `employee`, `lead` → a console Principal; ValueError otherwise."""
    kind, _, customer_id = spec.strip().partition(":")
    kind = kind.lower()
    if kind == "customer":
        if customer_id and not _CUSTOMER_ID.fullmatch(customer_id):
            raise ValueError(f"{customer_id!r} is not a customer id")
        name = f"Customer {customer_id}" if customer_id else "Customer"
        return Principal("console", f"console-{spec}", name, frozenset({Role.CUSTOMER}), customer_id or None)
    if customer_id:
        raise ValueError(f"only customers have a customer id; use {PRINCIPAL_HELP}")
    if kind == "employee":
        return Principal("console", "console-employee", "Employee", frozenset({Role.EMPLOYEE}))
    if kind == "lead":
        return Principal("console", "console-lead", "Lead", frozenset({Role.EMPLOYEE, Role.LEAD}))
    raise ValueError(f"unknown principal {spec!r}; use {PRINCIPAL_HELP}")
