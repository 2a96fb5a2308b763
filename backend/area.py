"""Is an address inside the configured service area (DOMAIN.md: service area is config)?"""
from __future__ import annotations

import re
from dataclasses import dataclass

from backend.config import District, ServiceArea

_PLACE = re.compile(r"([\u4e00-\u9fff]{2,7}?(?:省|自治区|市)|[\u4e00-\u9fff]{1,4}?(?:新区|区|县|旗))")


@dataclass(frozen=True)
class Placement:
    district: District | None
    outside: str | None  # the place named in the address that is not served


def locate(address: str, area: ServiceArea) -> Placement:
    """Find the served district an address names, or the foreign place it names instead."""
    lowered = address.lower()
    for district in area.districts:
        if district.name in address or any(a in lowered for a in district.aliases):
            return Placement(district, None)
    position = 0
    for match in _PLACE.finditer(address):
        place = match.group(1)
        if match.start() != position:  # only the leading province/city/district prefix counts
            break
        position = match.end()
        if place in (area.city_zh, area.city_zh.rstrip("市") + "市"):
            continue
        return Placement(None, place)
    return Placement(None, None)
