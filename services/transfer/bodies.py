"""What the transfer API accepts: request bodies, validated at the door (RFC 9457 422s name the field)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class ApplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    student_number: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9]+$")
    student_name: str = Field(min_length=1, max_length=100)
    origin_province: str = Field(pattern=r"^[0-9]{2}$", description="the province the student leaves")
    destination_class_id: str | None = Field(None, min_length=1, max_length=40)
    grade: int = Field(ge=1990, le=2100, description="the grade (年级) as its entry year")
    reason: Text

    @field_validator("grade", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # pydantic's lax mode would take true as 1 (STACK.md, schemathesis).
        if isinstance(value, bool):
            raise ValueError("must be an integer year, not a boolean")
        return value


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opinion: str = Field("", max_length=1000)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opinion: Text = Field(description="why: the applicant and the other province read it")


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opinion: str = Field("", max_length=1000)
