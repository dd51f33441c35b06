"""Why a check-in got its result: reason codes, stored with the attempt and carried by
``checkin.check_in.decided``, each with the Chinese text a student and a registrar read."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

# Beyond this accuracy a fix no longer gets the benefit of the doubt at the boundary
# (check_in_result.py says why).
MAX_TRUSTED_ACCURACY_M = 300.0


class Reason(StrEnum):
    # the position
    OUTSIDE_CAMPUS = "outside_campus"
    ON_INTERNSHIP = "on_internship"
    BOUNDARY_UNCERTAIN = "boundary_uncertain"
    ACCURACY_TOO_COARSE = "accuracy_too_coarse"
    # the device and the attempt
    EMULATOR = "emulator"
    MOCK_LOCATION = "mock_location"
    SELFIE_REPLAYED = "selfie_replayed"
    IMPOSSIBLE_SPEED = "impossible_speed"
    SHARED_DEVICE = "shared_device"
    # the face
    FACE_NO_MATCH = "face_no_match"
    FACE_NO_FACE = "face_no_face"
    FACE_SEVERAL_FACES = "face_several_faces"
    FACE_POOR_IMAGE = "face_poor_image"
    FACE_NOT_ENROLLED = "face_not_enrolled"

    @property
    def text(self) -> str:
        return _REASON_TEXT[self]


_REASON_TEXT = {
    Reason.OUTSIDE_CAMPUS: "定位不在学校登记的校区范围内",
    Reason.ON_INTERNSHIP: "定位在校外，学校已备案该生在此期间实习",
    Reason.BOUNDARY_UNCERTAIN: "定位精度范围跨越校区边界，按在校处理",
    Reason.ACCURACY_TOO_COARSE: f"定位精度低于{MAX_TRUSTED_ACCURACY_M:.0f}米，按定位中心判断",
    Reason.EMULATOR: "在模拟器中运行",
    Reason.MOCK_LOCATION: "使用了虚拟定位",
    Reason.SELFIE_REPLAYED: "自拍照片与此前提交过的照片完全相同",
    Reason.IMPOSSIBLE_SPEED: "与上次签到的位置相距过远，期间移动速度不可能达到",
    Reason.SHARED_DEVICE: "同一设备短时间内为多名学生签到，且人脸与本人不符",
    Reason.FACE_NO_MATCH: "人脸与本人不符",
    Reason.FACE_NO_FACE: "自拍照片中未检测到人脸，请重新拍照",
    Reason.FACE_SEVERAL_FACES: "自拍照片中有多张人脸，请单人重新拍照",
    Reason.FACE_POOR_IMAGE: "自拍照片无法用于比对，请重新拍照",
    Reason.FACE_NOT_ENROLLED: "尚未采集本人人脸，未能比对",
}


def reason_texts(codes: Iterable[str]) -> list[str]:
    """Chinese texts of stored reason codes (an unknown code is shown as itself)."""
    known = {r.value: r.text for r in Reason}
    return [known.get(code, code) for code in codes]
