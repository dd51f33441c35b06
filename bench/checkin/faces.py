"""Part (b)'s identity side: the face templates of the students whose every check-in is face
checked, sealed with the province's template key in identity's own (temporary) database, so
the real face workers (``python -m services.identity.face_worker``) can compare the selfies."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import numpy as np

from services.identity.faces import engine
from services.identity.faces.templates import load_or_create_key_file
from shared.db import upgrade_to_head

IDENTITY_MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "identity" / "migrations"


def descriptors(photos: dict[str, list[bytes]]) -> dict[str, np.ndarray]:
    """Each person's template, from their first photo (the enrolment capture)."""
    found = {}
    for person, blobs in photos.items():
        analysis = engine.analyse(engine.decode(blobs[0]))
        if analysis.descriptor is not None:
            found[person] = analysis.descriptor
    return found


def migrate_identity(database_url: str) -> None:
    upgrade_to_head(database_url.replace("+asyncpg", "+psycopg"), IDENTITY_MIGRATIONS)


async def enrol_templates(
    database_url: str, key_file: Path, students: list[tuple[str, str, str]], templates: dict[str, np.ndarray]
) -> None:
    """``students``: (student_id, school_code, person). Accounts + sealed templates, as a face
    capture would leave them."""
    keys = load_or_create_key_file(key_file)
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        accounts = [(uuid.uuid4(), student_id, school, person) for student_id, school, person in students]
        await connection.executemany(
            """INSERT INTO account (id, username, role, org_code, province, display_name, student_id, status,
            province_code, city_code, county_code, school_code)
            VALUES ($1, $2, 'student', $3, '41', $2, $2, 'active', '41', '4101', '410102', $3)""",
            [(account_id, student_id, school) for account_id, student_id, school, _ in accounts],
        )
        sealed_rows = []
        for account_id, student_id, school, person in accounts:
            sealed = keys.seal(templates[person], student_id)
            sealed_rows.append((account_id, student_id, school, sealed.key_id, sealed.blob))
        await connection.executemany(
            """INSERT INTO face_template (account_id, student_id, school_code, key_id, sealed, photo_version)
            VALUES ($1, $2, $3, $4, $5, 1)""",
            sealed_rows,
        )
    finally:
        await connection.close()
