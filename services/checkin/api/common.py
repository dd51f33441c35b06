"""What every check-in router says the same way: who may read a student's check-in records and
how an error response is documented."""

from typing import Any

from shared.auth import Role

# Everyone inside a jurisdiction (bureaus, the school, the counselor) and the student themself;
# the ministry arbitrates records and has no business with daily check-ins.
READERS = (
    Role.PROVINCE,
    Role.CITY,
    Role.COUNTY,
    Role.SCHOOL_REGISTRAR,
    Role.SCHOOL_LEADER,
    Role.COUNSELOR,
    Role.STUDENT,
)
# OpenAPI: errors are problem-details documents (shared/problems.py).
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
