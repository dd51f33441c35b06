"""When missed rounds call for a prompt to the school registrar (seed 001 四.1: "在校学生每个学期内
连续出现 2 次、累计 4 次不能按时完成学籍核验且无正当理由的，学校学籍管理员须在 5 个工作日内根据
上级教育部门在学籍备案系统内发起的提示信息 … 处理"; DOMAIN.md "Consequences").

A student's history in one term is the sequence of closed rounds they were called to (eligible
when it closed) or checked in to validly, ordered by end time. Rounds they were exempt from
(leave, out of scope) are not in it, so two misses around a leave are consecutive.

- An excused miss (an accepted appeal: "无正当理由" no longer holds) counts as if the student had
  come: it is not counted and it breaks a run of consecutive misses.
- Each rule fires on misses it has not fired on before: two consecutive misses of which neither
  is in an earlier two-consecutive prompt, or four misses none of which is in an earlier
  four-cumulative prompt. So a third consecutive miss does not prompt again, a fourth does (a
  new pair); the two rules are independent, as the seed states them side by side.
- A withdrawn prompt's misses are excused, so only open prompts are passed in.

Pure: the caller loads the history and the open prompts, and stores what comes back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class MissRule(StrEnum):
    TWO_CONSECUTIVE = "two_consecutive"
    FOUR_CUMULATIVE = "four_cumulative"

    @property
    def text(self) -> str:
        return {
            MissRule.TWO_CONSECUTIVE: "本学期连续 2 次未按时完成学籍核验",
            MissRule.FOUR_CUMULATIVE: "本学期累计 4 次未按时完成学籍核验",
        }[self]


CONSECUTIVE = 2
CUMULATIVE = 4


@dataclass(frozen=True)
class RoundOutcome:
    """One round of the student's history: ``missed`` (no valid check-in) and ``excused``."""

    round_id: str
    missed: bool
    excused: bool = False

    @property
    def counts(self) -> bool:
        """A miss without a valid reason."""
        return self.missed and not self.excused


@dataclass(frozen=True)
class Prompt:
    """A rule fired on these misses (ordered as in the history)."""

    rule: MissRule
    round_ids: tuple[str, ...]


def prompts_due(history: Sequence[RoundOutcome], open_prompts: Iterable[Prompt] = ()) -> list[Prompt]:
    """The prompts ``history`` calls for that ``open_prompts`` have not raised yet."""
    fired: dict[MissRule, set[str]] = {rule: set() for rule in MissRule}
    for prompt in open_prompts:
        fired[prompt.rule].update(prompt.round_ids)
    return _consecutive(history, fired[MissRule.TWO_CONSECUTIVE]) + _cumulative(
        history, fired[MissRule.FOUR_CUMULATIVE]
    )


def _consecutive(history: Sequence[RoundOutcome], fired: set[str]) -> list[Prompt]:
    prompts: list[Prompt] = []
    run: list[str] = []  # the current run of counting misses this rule has not fired on
    for outcome in history:
        if not outcome.counts or outcome.round_id in fired:
            run = []
            continue
        run.append(outcome.round_id)
        if len(run) == CONSECUTIVE:
            prompts.append(Prompt(MissRule.TWO_CONSECUTIVE, tuple(run)))
            run = []
    return prompts


def _cumulative(history: Sequence[RoundOutcome], fired: set[str]) -> list[Prompt]:
    pending = [o.round_id for o in history if o.counts and o.round_id not in fired]
    return [
        Prompt(MissRule.FOUR_CUMULATIVE, tuple(pending[i : i + CUMULATIVE]))
        for i in range(0, len(pending) - CUMULATIVE + 1, CUMULATIVE)
    ]
