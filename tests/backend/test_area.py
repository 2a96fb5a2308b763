from __future__ import annotations

import pytest

from backend.area import locate
from backend.config import hospital_config


@pytest.mark.parametrize(("address", "district", "outside"), [
    ("北京市朝阳区望京街道花家地小区3号楼", "朝阳区", None),
    ("北京西城区金融街7号", "西城区", None),
    ("海淀中关村大街1号", "海淀区", None),
    ("上海市浦东新区世纪大道100号", None, "上海市"),
    ("北京市通州区梨园镇云景里", None, "通州区"),
    ("河北省廊坊市燕郊", None, "河北省"),
    ("望京西园三区5号楼", None, None),
])
def test_locate_addresses(address, district, outside):
    placement = locate(address, hospital_config().service_area)
    assert (placement.district.name if placement.district else None) == district
    assert placement.outside == outside
