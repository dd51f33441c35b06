"""Whether two face descriptors are the same person (issue 4, item 4; DOMAIN.md "Registration
rounds": "the face must be the student's own").

dlib's ResNet model was trained so that descriptors of one person lie within 0.6 of each other
(Euclidean), and 0.6 is its published operating point. On the sample set the largest
same-person distance is 0.53 and the smallest different-person distance 0.70, so 0.6 sits in
the gap with margin both ways (``make bench-faces`` measures it). A false accept lets a proxy
check in for a student; a false reject only sends the student to the counselor.
"""

from __future__ import annotations

from enum import StrEnum

MATCH_THRESHOLD = 0.6


class FaceOutcome(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    POOR_IMAGE = "poor_image"
    NO_TEMPLATE = "no_template"  # the student has not captured a face (or it was deleted)


def is_same_person(distance: float, threshold: float = MATCH_THRESHOLD) -> bool:
    """Same person when the descriptors' distance is below the threshold (strictly: a distance
    exactly on the line is refused, erring towards the counselor)."""
    return 0.0 <= distance < threshold


def may_be_proxy_account(distance_to_other_student: float, threshold: float = MATCH_THRESHOLD) -> bool:
    """A face enrolled for a student that matches another student's template at the same school
    is flagged as a possible proxy account (issue 4, item 3): one person holding two accounts."""
    return is_same_person(distance_to_other_student, threshold)
