"""``python -m services.identity.sweep``: delete the face templates whose retention has ended
on demand; a running identity does the same every hour (template_sweeper.py)."""

from __future__ import annotations

import asyncio

from services.identity.retention import delete_due_templates
from shared.china_time import today_in_china
from shared.db import make_engine, make_sessionmaker
from shared.settings import Settings


async def sweep(settings: Settings) -> int:
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            deleted = await delete_due_templates(session, today_in_china())
            await session.commit()
        return deleted
    finally:
        await engine.dispose()


if __name__ == "__main__":
    print(f"deleted {asyncio.run(sweep(Settings(service='identity')))} face templates")
