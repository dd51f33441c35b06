"""Face detection, measurement and descriptors over dlib (STACK.md "dlib-bin").

CPU-bound and synchronous: the API runs it in a worker thread, the face worker in its own
process (dlib-bin is single-threaded, so parallelism means processes). The models come from the
installed ``face-recognition-models`` package, never from a download; its folder is found with
``importlib.util.find_spec`` because importing the package pulls ``pkg_resources``.
"""

from __future__ import annotations

import importlib.util
import io
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import dlib
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from services.identity.domain.face_quality import FaceMeasurements

# HOG with upsample 0 on ≤640-px images finds faces from about 80 px (STACK.md): enough for a
# selfie and 4× cheaper than upsample 1.
MAX_SIDE = 640
UPSAMPLE = 0
# The 5-point model: the 68-point one is not licensed for commercial use (DESIGN.md "Faces").
LANDMARKS_FILE = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"
FACE_SIDE = 96  # the face crop is measured at this size


class UnreadableImage(Exception):
    """The bytes are not an image Pillow can decode."""


@dataclass(frozen=True)
class FaceModels:
    detector: Any
    landmarks: Any
    encoder: Any


def models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@cache
def load_models() -> FaceModels:
    folder = models_dir()
    return FaceModels(
        detector=dlib.get_frontal_face_detector(),
        landmarks=dlib.shape_predictor(str(folder / LANDMARKS_FILE)),
        encoder=dlib.face_recognition_model_v1(str(folder / DESCRIPTOR_FILE)),
    )


def decode(data: bytes, max_side: int = MAX_SIDE) -> np.ndarray:
    """RGB pixels, upright as the camera held it (dlib ignores EXIF rotation), at most
    ``max_side`` on the long side."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UnreadableImage(str(exc)) from exc
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


@dataclass(frozen=True)
class FaceAnalysis:
    measurements: FaceMeasurements
    descriptor: np.ndarray | None  # 128 floats, only when exactly one face was found


def _sharpness(gray: np.ndarray) -> float:
    """Variance of a 4-neighbour Laplacian: low on blurred images."""
    if gray.shape[0] < 3 or gray.shape[1] < 3:
        return 0.0
    lap = gray[1:-1, :-2] + gray[1:-1, 2:] + gray[:-2, 1:-1] + gray[2:, 1:-1] - 4.0 * gray[1:-1, 1:-1]
    return float(lap.var())


def _grey_face(crop: np.ndarray) -> np.ndarray:
    """The face crop in grey levels at a fixed size, so sharpness reads the same for a large and
    a small face (a Laplacian's variance falls as a face is enlarged)."""
    if crop.size == 0:
        return np.zeros((1, 1), dtype=np.float32)
    face = Image.fromarray(crop).convert("L").resize((FACE_SIDE, FACE_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(face, dtype=np.float32)


def _yaw(points: list[tuple[float, float]]) -> float:
    """How far the nose sits off the eyes' midline, as a share of the eye distance (0 = frontal).

    The 5-point model gives two corners of each eye (0–1 and 2–3) and the nose base (4).
    """
    eye_a = ((points[0][0] + points[1][0]) / 2, (points[0][1] + points[1][1]) / 2)
    eye_b = ((points[2][0] + points[3][0]) / 2, (points[2][1] + points[3][1]) / 2)
    mid_x = (eye_a[0] + eye_b[0]) / 2
    distance = max(abs(eye_a[0] - eye_b[0]), 1.0)
    return abs(points[4][0] - mid_x) / distance


# dlib's detector and networks keep working buffers inside the objects: two threads using the
# same models at once corrupt each other's results (seen as a wrong face count). One analysis
# at a time per process; throughput comes from more processes (dlib-bin is single-threaded).
_models_in_use = threading.Lock()


def analyse(image: np.ndarray, models: FaceModels | None = None) -> FaceAnalysis:
    m = models or load_models()
    with _models_in_use:
        return _analyse(image, m)


def _analyse(image: np.ndarray, m: FaceModels) -> FaceAnalysis:
    height, width = image.shape[:2]
    rects = list(m.detector(image, UPSAMPLE))
    if len(rects) != 1:
        return FaceAnalysis(FaceMeasurements(face_count=len(rects)), None)
    rect = rects[0]
    left, top, right, bottom = rect.left(), rect.top(), rect.right(), rect.bottom()
    inside = left >= 0 and top >= 0 and right < width and bottom < height
    crop = image[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
    gray = _grey_face(crop)
    shape = m.landmarks(image, rect)
    points = [(float(p.x), float(p.y)) for p in shape.parts()]
    measurements = FaceMeasurements(
        face_count=1,
        face_width_px=int(rect.width()),
        inside_frame=inside,
        sharpness=_sharpness(gray),
        brightness=float(gray.mean()) if gray.size else 0.0,
        yaw=_yaw(points),
    )
    descriptor = np.asarray(m.encoder.compute_face_descriptor(image, shape), dtype=np.float64)
    return FaceAnalysis(measurements, descriptor)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))
