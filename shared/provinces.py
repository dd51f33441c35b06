"""China's provincial-level divisions by their GB/T 2260 code (the first two digits of every
region, school and ID number), named as the seed's screens name them (转入省份 山东, not 山东省),
and in English for the console's second language.

A fixed table rather than the partner registry: a case may name a province that is not (or no
longer) a partner of ours, and a transfer query filters by any of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple


class ProvinceName(NamedTuple):
    zh: str
    en: str


PROVINCES: Mapping[str, ProvinceName] = {
    "11": ProvinceName("北京", "Beijing"),
    "12": ProvinceName("天津", "Tianjin"),
    "13": ProvinceName("河北", "Hebei"),
    "14": ProvinceName("山西", "Shanxi"),
    "15": ProvinceName("内蒙古", "Inner Mongolia"),
    "21": ProvinceName("辽宁", "Liaoning"),
    "22": ProvinceName("吉林", "Jilin"),
    "23": ProvinceName("黑龙江", "Heilongjiang"),
    "31": ProvinceName("上海", "Shanghai"),
    "32": ProvinceName("江苏", "Jiangsu"),
    "33": ProvinceName("浙江", "Zhejiang"),
    "34": ProvinceName("安徽", "Anhui"),
    "35": ProvinceName("福建", "Fujian"),
    "36": ProvinceName("江西", "Jiangxi"),
    "37": ProvinceName("山东", "Shandong"),
    "41": ProvinceName("河南", "Henan"),
    "42": ProvinceName("湖北", "Hubei"),
    "43": ProvinceName("湖南", "Hunan"),
    "44": ProvinceName("广东", "Guangdong"),
    "45": ProvinceName("广西", "Guangxi"),
    "46": ProvinceName("海南", "Hainan"),
    "50": ProvinceName("重庆", "Chongqing"),
    "51": ProvinceName("四川", "Sichuan"),
    "52": ProvinceName("贵州", "Guizhou"),
    "53": ProvinceName("云南", "Yunnan"),
    "54": ProvinceName("西藏", "Tibet"),
    "61": ProvinceName("陕西", "Shaanxi"),
    "62": ProvinceName("甘肃", "Gansu"),
    "63": ProvinceName("青海", "Qinghai"),
    "64": ProvinceName("宁夏", "Ningxia"),
    "65": ProvinceName("新疆", "Xinjiang"),
    "66": ProvinceName("新疆生产建设兵团", "Xinjiang Production and Construction Corps"),
}


def province_name(code: str, language: Literal["zh", "en"] = "zh") -> str:
    """The province's name, or the code itself when the table does not know it."""
    known = PROVINCES.get(code)
    if known is None:
        return code
    return known.zh if language == "zh" else known.en


def province_label(code: str, language: Literal["zh", "en"] = "zh") -> str:
    """The name with its code, as lists show a province: 山东（37）, Shandong (37)."""
    name = province_name(code, language)
    if name == code:
        return code
    return f"{name}（{code}）" if language == "zh" else f"{name} ({code})"
