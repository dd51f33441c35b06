from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.transfer.tests.integration.support import (
    Province,
    ProvinceKeys,
    make_keys,
    running_province,
)
from shared.events.common import Lineage

pytestmark = pytest.mark.integration

HENAN_SCHOOL = Lineage(province="41", city="4101", county="410102", school="4141010001")
HENAN_OTHER_SCHOOL = Lineage(province="41", city="4101", county="410103", school="4141010002")
HENAN_KAIFENG_SCHOOL = Lineage(province="41", city="4102", county="410202", school="4141020001")
SHANDONG_SCHOOL = Lineage(province="37", city="3701", county="370102", school="3737010001")


@pytest.fixture(scope="module")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("transfer-keys")


@pytest.fixture(scope="module")
def henan_keys(key_dir: Path) -> ProvinceKeys:
    return make_keys("41", key_dir)


@pytest.fixture(scope="module")
def shandong_keys(key_dir: Path) -> ProvinceKeys:
    return make_keys("37", key_dir)


@pytest.fixture(scope="module")
async def henan(
    henan_keys: ProvinceKeys, shandong_keys: ProvinceKeys, key_dir: Path
) -> AsyncIterator[Province]:
    """Henan's transfer service, the destination in these tests, with two schools registered."""
    async with running_province(henan_keys, [shandong_keys], key_dir) as province:
        await province.register_school(HENAN_SCHOOL, "郑州市信息技术中等职业学校")
        await province.register_school(HENAN_OTHER_SCHOOL, "郑州市第二中等职业学校")
        await province.register_school(HENAN_KAIFENG_SCHOOL, "开封市文化艺术职业学校")
        yield province


@pytest.fixture(scope="module")
async def shandong(
    henan_keys: ProvinceKeys, shandong_keys: ProvinceKeys, key_dir: Path
) -> AsyncIterator[Province]:
    """Shandong's transfer service, the origin in the cross-province tests."""
    async with running_province(shandong_keys, [henan_keys], key_dir) as province:
        yield province
