"""``python -m registry import FAMILIES.jsonl``: families registered in bulk, as an operator at a service point
registers them (qosym_chassis.bulk: the same use cases, rules, audit rows and events as the API, a record each).

A record is a person as ``POST /v1/people`` takes it (``iin``, ``phone``, ``consent``) with their ``children`` as
``POST /v1/children`` takes each (``iin``, ``region_code``, ``district_code``, optionally ``name``); the result names the person's id and
each child's id, in order. A person or child registered already is found again (the API's 200), never twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ConfigDict, Field

from qosym_chassis import bulk
from qosym_chassis.audit import Actor
from qosym_chassis.context import ServiceContext
from registry.bootstrap import bootstrap
from registry.config import RegistrySettings
from registry.entrypoints.schemas import RegisterChildIn, RegisterPersonIn
from registry.service_layer import children, people


class FamilyIn(RegisterPersonIn):
    model_config = ConfigDict(extra="forbid")

    children: list[RegisterChildIn] = Field(default_factory=list, max_length=20)


def handler(settings: RegistrySettings, context: ServiceContext, actor: str) -> bulk.Handler:
    deps = bootstrap(settings, context).deps
    operator = Actor(actor, "operator")

    async def register(record: Mapping[str, Any]) -> Mapping[str, Any]:
        family = bulk.validated(FamilyIn, record)
        person = await people.register_person(
            deps,
            people.RegisterPerson(
                iin=family.iin,
                phone=family.phone,
                consents={str(purpose): granted for purpose, granted in family.consent.items()},
                declared_birth_date=family.declared_birth_date,
                declared_sex=family.declared_sex,
            ),
        )
        ids = []
        for child in family.children:
            registered = await children.register_child(
                deps,
                children.RegisterChild(
                    guardian_id=person.person.id,
                    iin=child.iin,
                    region_code=child.region_code,
                    district_code=child.district_code,
                    declared_birth_date=child.declared_birth_date,
                    declared_sex=child.declared_sex,
                    actor=operator,
                    name=child.name,
                ),
            )
            ids.append(str(registered.child.id))
        return {"person_id": str(person.person.id), "created": person.created, "children": ids}

    return register


def main(settings: RegistrySettings, argv: list[str]) -> int:
    return bulk.import_main("registry", settings, argv, handler)  # type: ignore[arg-type]
