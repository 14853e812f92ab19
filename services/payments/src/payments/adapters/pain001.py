"""ISO 20022 pain.001.001.09 (CustomerCreditTransferInitiation): write a payment order and validate it against
the official XSD.

The XSD is the one shipped in the ``sepaxml`` wheel (pinned); its SEPA generator is not used because a
Kazakh treasury order is not a SEPA payment (KZT, no SEPA service level). The document is built with the
standard library and validated with ``xmlschema`` before it is stored; an order that does not validate is
never approved.
"""

from __future__ import annotations

import functools
import importlib.resources
import xml.etree.ElementTree as ET
from typing import Any

import xmlschema

from payments.domain.accrual import tenge_text
from payments.domain.payment_order import PaymentOrder

SCHEMA = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"


class InvalidPaymentOrder(ValueError):
    pass


@functools.cache
def schema() -> xmlschema.XMLSchema:
    path = importlib.resources.files("sepaxml") / "schemas" / f"{SCHEMA}.xsd"
    return xmlschema.XMLSchema(str(path))


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def _agent(parent: ET.Element, tag: str, bic: str | None) -> None:
    agent = _el(_el(parent, tag), "FinInstnId")
    if bic:
        _el(agent, "BICFI", bic)
    else:
        _el(_el(agent, "Othr"), "Id", "NOTPROVIDED")


def _account(parent: ET.Element, tag: str, iban: str, currency: str | None = None) -> None:
    account = _el(parent, tag)
    _el(_el(account, "Id"), "IBAN", iban)
    if currency:
        _el(account, "Ccy", currency)


def build(order: PaymentOrder) -> bytes:
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}Document")
    initiation = _el(root, "CstmrCdtTrfInitn")
    header = _el(initiation, "GrpHdr")
    _el(header, "MsgId", order.message_id)
    _el(header, "CreDtTm", order.created_at.replace(microsecond=0).isoformat())
    _el(header, "NbOfTxs", str(len(order.transfers)))
    _el(header, "CtrlSum", tenge_text(order.total_tiyn))
    _el(_el(header, "InitgPty"), "Nm", order.initiator[:140])

    payment = _el(initiation, "PmtInf")
    _el(payment, "PmtInfId", order.message_id)
    _el(payment, "PmtMtd", "TRF")
    _el(payment, "BtchBookg", "false")
    _el(payment, "NbOfTxs", str(len(order.transfers)))
    _el(payment, "CtrlSum", tenge_text(order.total_tiyn))
    _el(_el(payment, "ReqdExctnDt"), "Dt", order.execution_date.isoformat())
    _el(_el(payment, "Dbtr"), "Nm", order.debtor.name[:140])
    _account(payment, "DbtrAcct", order.debtor.iban, order.currency)
    _agent(payment, "DbtrAgt", order.debtor.bic)
    _el(payment, "ChrgBr", "DEBT")  # the treasury bears the charges: providers receive the full amount
    for transfer in order.transfers:
        tx = _el(payment, "CdtTrfTxInf")
        _el(_el(tx, "PmtId"), "EndToEndId", transfer.end_to_end_id)
        _el(_el(tx, "Amt"), "InstdAmt", tenge_text(transfer.amount_tiyn), Ccy=order.currency)
        _agent(tx, "CdtrAgt", transfer.creditor.bic)
        creditor = _el(tx, "Cdtr")
        _el(creditor, "Nm", transfer.creditor.name[:140])
        if transfer.creditor.bin:
            other = _el(_el(_el(creditor, "Id"), "OrgId"), "Othr")
            _el(other, "Id", transfer.creditor.bin)
            _el(_el(other, "SchmeNm"), "Prtry", "BIN")
        _account(tx, "CdtrAcct", transfer.creditor.iban)
        _el(_el(tx, "RmtInf"), "Ustrd", transfer.remittance[:140])
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)  # bytes for an explicit encoding
    return document


def validate(document: bytes) -> None:
    errors: list[Any] = list(schema().iter_errors(document.decode("utf-8")))
    if errors:
        reasons = "; ".join(f"{e.path}: {e.reason}" for e in errors[:5])
        raise InvalidPaymentOrder(f"the payment order does not validate against {SCHEMA}: {reasons}")


def write(order: PaymentOrder) -> bytes:
    """The order as validated pain.001.001.09 XML (UTF-8)."""
    document = build(order)
    validate(document)
    return document
