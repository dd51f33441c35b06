"""Electronic certificates (电子证照, seed 004 art. 1): every valid certificate also exists as a PDF
with the student's digital ID photo, signed by the province (PAdES), kept in
``electronic_certificate`` for the graduate to download.

A background duty makes them, so issuing a list of a thousand stays one quick transaction and a
slow renderer or identity never holds it up. Each step takes a handful of certificates that have
none, under their row locks with SKIP LOCKED (two processes share the work, neither makes one
twice; a rollback voiding one of them waits the fraction of a second its batch takes), renders
and signs each, and commits the PDFs together.

Finding the work without an anti-join over millions of certificates every few seconds:
certificate ids are UUIDv7, so ``id >=`` the id of a moment is a primary-key range. Most steps
look at the certificates of the last ``RECENT`` only; the first step after start and one an hour
look at all of them (a photo identity could not give in time, a certificate issued while no
signer was configured).

Rendering (Typst) and signing (pyHanko) are CPU-bound and synchronous: they run in a worker
thread (``asyncio.to_thread``) so the event loop keeps serving requests; see ``make_one``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.certificates.domain.certificate_face import face_from_json
from services.certificates.keys import PdfSigner
from services.certificates.models import Certificate, ElectronicCertificate
from services.certificates.peers import PeerUnavailable
from services.certificates.printing.face import PrintLayout, RenderItem
from services.certificates.printing.render import CertificateRenderer
from services.certificates.startup import peers_of
from shared.periodic import PeriodicTask
from shared.service import ServiceContext

log = logging.getLogger(__name__)

BATCH = 8
INTERVAL_SECONDS = 3.0
RECENT = timedelta(minutes=30)  # longer than any issuing transaction stays open
FULL_SWEEP_SECONDS = 3600.0

# The electronic certificate is final: no draft watermark; the photo is the digital ID photo.
WITH_PHOTO = PrintLayout(draft=False, photo_mode="id_photo")
# No accepted photo at identity: the frame stays empty rather than the certificate waiting
# forever; the log names the certificate so the school can see to the photo.
WITHOUT_PHOTO = PrintLayout(draft=False, photo_mode="empty_frame")


def uuid7_floor(moment: datetime) -> str:
    """The smallest UUIDv7 text of ``moment``'s millisecond: ids compare as text in time order."""
    millis = f"{int(moment.timestamp() * 1000):012x}"
    return f"{millis[:8]}-{millis[8:]}-0000-0000-000000000000"


def render_and_sign(
    renderer: CertificateRenderer, signer: PdfSigner, item: RenderItem, layout: PrintLayout
) -> bytes:
    return signer.sign(renderer.render_one(item, layout))


async def make_one(
    ctx: ServiceContext, renderer: CertificateRenderer, signer: PdfSigner, certificate: Certificate
) -> ElectronicCertificate | None:
    """The signed PDF of one certificate; None when identity cannot answer right now."""
    try:
        photo = await peers_of(ctx).id_photo(certificate.student_id)
    except PeerUnavailable as error:
        log.warning("electronic certificate %s waits: %s", certificate.number, error)
        return None
    if photo is None:
        log.warning(
            "electronic certificate %s made with an empty photo frame: identity has no accepted photo",
            certificate.number,
        )
    item = RenderItem(face=face_from_json(certificate.face), qr_text=certificate.qr_url, photo=photo)
    # A thread, not a process pool. Measured on the 2-core machine, 60 certificates with the
    # loop ticking every 5 ms: inline, the loop waited 27 ms (p50) and 59 ms (max) per tick; in
    # a thread 1.5 ms and 13 ms, at the same 30 certificates/s (render ≈ 4 ms, PAdES signing
    # ≈ 25 ms of pyHanko's Python). A process pool would need its own warm renderer and signer
    # per process for a duty that runs in the background anyway; the thread keeps it simple.
    pdf = await asyncio.to_thread(
        render_and_sign, renderer, signer, item, WITH_PHOTO if photo else WITHOUT_PHOTO
    )
    return ElectronicCertificate(
        certificate_id=certificate.id, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest()
    )


async def make_electronic_certificates(
    ctx: ServiceContext,
    renderer: CertificateRenderer,
    signer: PdfSigner,
    *,
    since: datetime | None = None,
    batch: int = BATCH,
) -> tuple[int, int]:
    """Make the electronic certificates of up to ``batch`` valid certificates that have none
    (issued since ``since``, or any): how many were looked at, how many made."""
    query = (
        select(Certificate)
        .outerjoin(ElectronicCertificate, ElectronicCertificate.certificate_id == Certificate.id)
        .where(Certificate.status == "valid", ElectronicCertificate.certificate_id.is_(None))
        .order_by(Certificate.id)
        .limit(batch)
        .with_for_update(of=Certificate, skip_locked=True)
    )
    if since is not None:
        query = query.where(Certificate.id >= uuid7_floor(since))
    async with ctx.sessionmaker() as session:
        certificates = list(await session.scalars(query))
        made_count = 0
        for certificate in certificates:
            made = await make_one(ctx, renderer, signer, certificate)
            if made is not None:
                values = {"certificate_id": made.certificate_id, "pdf": made.pdf, "sha256": made.sha256}
                await session.execute(insert(ElectronicCertificate).values(**values).on_conflict_do_nothing())
                made_count += 1
        await session.commit()
    return len(certificates), made_count


class ElectronicCertificateMaker(PeriodicTask):
    """Every few seconds: the electronic certificates still missing, batch after batch."""

    name = "electronic-certificates"

    def __init__(self, ctx: ServiceContext, renderer: CertificateRenderer, signer: PdfSigner) -> None:
        super().__init__(ctx, INTERVAL_SECONDS)
        self.renderer = renderer
        self.signer = signer
        self._swept_at: float | None = None

    async def step(self) -> None:
        full = self._swept_at is None or time.monotonic() - self._swept_at > FULL_SWEEP_SECONDS
        since = None if full else datetime.now(UTC) - RECENT
        # Batch after batch while there is work; certificates skipped (identity not answering)
        # come first again, so a batch that made nothing ends the step until the next interval.
        while True:
            looked_at, made = await make_electronic_certificates(
                self.ctx, self.renderer, self.signer, since=since
            )
            if looked_at < BATCH or made == 0:
                break
        if full:
            self._swept_at = time.monotonic()
