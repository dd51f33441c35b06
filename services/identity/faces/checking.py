"""Capture and verification steps over the engine, the quality rule and the sealed templates.

The engine's CPU work runs in a worker thread so the event loop keeps serving; throughput comes
from more processes (the face worker), not threads (dlib-bin is single-threaded anyway).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.domain.face_match import FaceOutcome, is_same_person, may_be_proxy_account
from services.identity.domain.face_quality import REFUSAL_TEXT, PhotoRefusal, photo_refusal
from services.identity.faces import engine
from services.identity.faces.templates import SealedTemplate, TemplateKeys, TemplateUnreadable
from services.identity.models import FaceTemplate

MAX_PHOTO_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class PhotoVerdict:
    """A usable face's descriptor, or the reason the photo is unusable."""

    descriptor: np.ndarray | None
    refusal: PhotoRefusal | None
    unreadable: bool = False


def _judge(photo: bytes) -> PhotoVerdict:
    try:
        image = engine.decode(photo)
    except engine.UnreadableImage:
        return PhotoVerdict(None, None, unreadable=True)
    analysis = engine.analyse(image)
    refusal = photo_refusal(analysis.measurements)
    return PhotoVerdict(analysis.descriptor if refusal is None else None, refusal)


async def judge_photo(photo: bytes) -> PhotoVerdict:
    return await asyncio.to_thread(_judge, photo)


@dataclass(frozen=True)
class FaceResult:
    outcome: FaceOutcome
    reason: str | None = None
    reason_zh: str | None = None
    distance: float | None = None


def _unusable(verdict: PhotoVerdict) -> FaceResult:
    if verdict.unreadable:
        return FaceResult(FaceOutcome.POOR_IMAGE, "not a readable image", "无法读取的图片")
    refusal = verdict.refusal
    assert refusal is not None
    outcome = {
        PhotoRefusal.NO_FACE: FaceOutcome.NO_FACE,
        PhotoRefusal.SEVERAL_FACES: FaceOutcome.SEVERAL_FACES,
    }.get(refusal, FaceOutcome.POOR_IMAGE)
    en, zh = REFUSAL_TEXT[refusal]
    return FaceResult(outcome, f"{refusal.value}: {en}", zh)


async def verify_face(session: AsyncSession, keys: TemplateKeys, student_id: str, photo: bytes) -> FaceResult:
    """Compare a photo with the student's template. Every outcome is a result, never an error:
    no template, no face, several faces and a poor image each say why."""
    template = await session.scalar(select(FaceTemplate).where(FaceTemplate.student_id == student_id))
    if template is None:
        return FaceResult(FaceOutcome.NO_TEMPLATE, "the student has no face template", "该学生未采集人脸")
    verdict = await judge_photo(photo)
    if verdict.descriptor is None:
        return _unusable(verdict)
    stored = keys.open(SealedTemplate(template.key_id, template.sealed), student_id)
    distance = engine.distance(verdict.descriptor, stored)
    outcome = FaceOutcome.MATCH if is_same_person(distance) else FaceOutcome.NO_MATCH
    return FaceResult(outcome, distance=round(distance, 4))


async def possible_proxy_of(
    session: AsyncSession, keys: TemplateKeys, student_id: str, school_code: str, descriptor: np.ndarray
) -> str | None:
    """Another student of the same school whose template matches this face, if any.

    Every template of the school is opened and compared: AES-GCM and a 128-d distance cost
    microseconds, so a school of a few thousand students takes milliseconds.
    """
    rows = await session.execute(
        select(FaceTemplate.student_id, FaceTemplate.key_id, FaceTemplate.sealed).where(
            FaceTemplate.school_code == school_code, FaceTemplate.student_id != student_id
        )
    )
    for other_id, key_id, sealed in rows:
        try:
            other = keys.open(SealedTemplate(key_id, sealed), other_id)
        except TemplateUnreadable:
            continue  # a template under a retired key cannot be compared; it is re-captured later
        if may_be_proxy_account(engine.distance(descriptor, other)):
            return str(other_id)
    return None
