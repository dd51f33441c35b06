"""Graduates' face templates fall due day by day (domain/template_retention.py): a running
identity deletes those whose day has come every hour, so deletion does not wait for a restart
(PIPL's deletion duty). ``python -m services.identity.sweep`` does the same once, on demand."""

from __future__ import annotations

import logging

from services.identity.retention import delete_due_templates
from shared.china_time import today_in_china
from shared.periodic import PeriodicTask
from shared.service import ServiceContext

log = logging.getLogger(__name__)

SWEEPER_KEY = "template_sweeper"
SWEEP_EVERY_SECONDS = 3600.0


class TemplateSweeper(PeriodicTask):
    name = "identity-template-sweeper"

    async def step(self) -> None:
        async with self.ctx.uow() as uow:
            deleted = await delete_due_templates(uow.session, today_in_china())
            await uow.commit()
        if deleted:
            log.info("face template retention: deleted %d templates past their day", deleted)


def start_template_sweeper(ctx: ServiceContext) -> TemplateSweeper:
    sweeper = TemplateSweeper(ctx, SWEEP_EVERY_SECONDS)
    ctx.extras[SWEEPER_KEY] = sweeper
    sweeper.start()
    return sweeper
