"""The audit trail's mac and head signatures, without a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from qosym_chassis.audit import GENESIS, AuditTrail, Head, HeadStore, row_mac
from qosym_chassis.roles import app_grants_sql, with_credentials

pytestmark = pytest.mark.unit
ROW = {
    "chain": "registry",
    "seq": 1,
    "occurred_at": datetime(2026, 1, 1, tzinfo=UTC),
    "actor": "parent:x",
    "acting_for": None,
    "action": "a",
    "entity": "child",
    "entity_id": "1",
    "data": {"k": 1},
}


def test_the_mac_depends_on_the_key_the_previous_mac_and_the_content() -> None:
    key, other = bytes(range(32)), bytes(32)
    first = row_mac(key, GENESIS, ROW)
    assert row_mac(key, GENESIS, {**ROW, "data": {"k": 2}}) != first
    assert row_mac(key, first, ROW) != first
    assert row_mac(other, GENESIS, ROW) != first  # without the key no one can recompute it


def test_heads_are_signed_kept_and_refused_when_edited_or_signed_by_another_key(tmp_path) -> None:
    trail = AuditTrail("payments", keys_dir=tmp_path / "keys", head_dir=tmp_path / "heads")
    impostor = AuditTrail("payments", keys_dir=tmp_path / "other", head_dir=tmp_path / "heads")
    store = HeadStore(tmp_path / "heads", "payments")
    at = datetime(2026, 12, 1, tzinfo=UTC)
    store.write(Head("payments", 3, b"\x01" * 32, 3, at), trail.head_key)
    store.write(Head("payments", 5, b"\x02" * 32, 5, at), trail.head_key)
    assert [h.last_seq for h in store.read(trail.head_key.public_key())] == [3, 5]  # type: ignore[union-attr]
    store.write(Head("payments", 9, b"\x03" * 32, 9, at), impostor.head_key)
    edited = store.paths()[0]
    document = json.loads(edited.read_text())
    document["payload"]["rows"] = 2
    edited.write_text(json.dumps(document))
    problems = [h for h in store.read(trail.head_key.public_key()) if isinstance(h, str)]
    assert len(problems) == 2 and all("invalid signature" in p for p in problems)


def test_a_production_mac_key_must_be_long_enough(tmp_path) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        _ = AuditTrail("registry", tmp_path, tmp_path, mac_key_hex="00" * 16).mac_key
    assert len(AuditTrail("registry", tmp_path, tmp_path).mac_key) == 32  # a development key, generated


def test_the_app_role_gets_no_rewrite_right_on_the_trail_and_urls_carry_its_credentials() -> None:
    grants = " ".join(app_grants_sql("qosym_registry_app"))
    assert "REVOKE UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON audit_log FROM qosym_registry_app" in grants
    assert "TRUNCATE" not in grants.split("REVOKE")[0]
    url = with_credentials("postgresql://postgres@127.0.0.1:5432/qosym_registry", "qosym_registry_app", "p@ss/")
    assert url == "postgresql://qosym_registry_app:p%40ss%2F@127.0.0.1:5432/qosym_registry"
    with pytest.raises(ValueError):
        app_grants_sql("x; DROP TABLE person")
