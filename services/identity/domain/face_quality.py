"""Whether a photo is good enough to enrol or to check a face (issue 4, item 3: "exactly one
face, large, sharp, lit and frontal enough — each failure gives a clear reason"; DOMAIN.md
"Registration rounds": face capture at activation).

Pure: the measurements come from ``services.identity.faces.engine``; the thresholds are values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PhotoRefusal(StrEnum):
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    FACE_CUT_OFF = "face_cut_off"
    FACE_TOO_SMALL = "face_too_small"
    BLURRY = "blurry"
    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    NOT_FRONTAL = "not_frontal"


# What the student reads, in both languages.
REFUSAL_TEXT: dict[PhotoRefusal, tuple[str, str]] = {
    PhotoRefusal.NO_FACE: ("no face found in the photo", "照片中未检测到人脸"),
    PhotoRefusal.SEVERAL_FACES: ("more than one face in the photo", "照片中有多张人脸"),
    PhotoRefusal.FACE_CUT_OFF: ("the face is partly outside the photo", "人脸不完整，部分在照片之外"),
    PhotoRefusal.FACE_TOO_SMALL: ("the face is too small: come closer", "人脸过小，请靠近镜头"),
    PhotoRefusal.BLURRY: ("the photo is blurred: hold the phone still", "照片模糊，请保持手机稳定"),
    PhotoRefusal.TOO_DARK: ("the face is too dark: find more light", "光线过暗，请到光线充足处"),
    PhotoRefusal.TOO_BRIGHT: ("the face is over-exposed", "光线过强，人脸过曝"),
    PhotoRefusal.NOT_FRONTAL: ("look straight at the camera", "请正对镜头"),
}


@dataclass(frozen=True)
class FaceMeasurements:
    """What the engine measured. Only ``face_count`` is meaningful unless it is 1."""

    face_count: int
    face_width_px: int = 0
    inside_frame: bool = True
    sharpness: float = 0.0  # variance of the Laplacian over the face, grey levels²
    brightness: float = 0.0  # mean grey level of the face, 0–255
    yaw: float = 0.0  # nose offset from the eyes' midline / eye distance; 0 is frontal


@dataclass(frozen=True)
class QualityThresholds:
    # HOG with upsample 0 finds faces from about 80 px at best; smaller ones are unreliable.
    min_face_px: int = 70
    min_sharpness: float = 50.0  # measured on a 96-px grey crop; the sample set is 108–834
    min_brightness: float = 40.0
    max_brightness: float = 225.0
    max_yaw: float = 0.35


DEFAULT_THRESHOLDS = QualityThresholds()


def photo_refusal(m: FaceMeasurements, t: QualityThresholds = DEFAULT_THRESHOLDS) -> PhotoRefusal | None:
    """The first reason the photo cannot be used, or None. Checked in the order a person would
    fix them: the count of faces first, then framing, size, focus, light and pose."""
    if m.face_count == 0:
        return PhotoRefusal.NO_FACE
    if m.face_count > 1:
        return PhotoRefusal.SEVERAL_FACES
    if not m.inside_frame:
        return PhotoRefusal.FACE_CUT_OFF
    if m.face_width_px < t.min_face_px:
        return PhotoRefusal.FACE_TOO_SMALL
    if m.sharpness < t.min_sharpness:
        return PhotoRefusal.BLURRY
    if m.brightness < t.min_brightness:
        return PhotoRefusal.TOO_DARK
    if m.brightness > t.max_brightness:
        return PhotoRefusal.TOO_BRIGHT
    if m.yaw > t.max_yaw:
        return PhotoRefusal.NOT_FRONTAL
    return None
