"""Which places a staff caller reaches: everywhere, one region (and optionally one district of it), or nowhere.

A pure value: ``service_layer/access.py`` derives it from the caller, listings in ``adapters`` turn it into SQL
(docs/architecture.md, "Service anatomy").
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reach:
    everywhere: bool = False
    region: str | None = None
    district: str | None = None

    def covers(self, region_code: str | None, district_code: str | None) -> bool:
        if self.everywhere:
            return True
        if not self.region or region_code != self.region:
            return False
        return self.district is None or district_code == self.district


NOWHERE = Reach()
EVERYWHERE = Reach(everywhere=True)
