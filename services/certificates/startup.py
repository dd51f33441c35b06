"""What the certificates process builds once at start and keeps in ``ctx.extras``: the peers it
asks, its keys (the QR payload key is made here if missing, so the first issue does not race
another process to create it), one warm certificate renderer, the PAdES signer when one is
configured, and the worker making electronic certificates."""

from __future__ import annotations

import asyncio
import logging

from services.certificates.keys import PdfSigner, payload_key, pdf_signer
from services.certificates.peers import Peers
from services.certificates.printing.coverage import printable_code_points
from services.certificates.printing.render import CertificateRenderer
from shared.service import ServiceContext

log = logging.getLogger(__name__)

PEERS = "peers"
RENDERER = "certificate_renderer"
PDF_SIGNER = "certificate_pdf_signer"
ELECTRONIC_WORKER = "electronic_certificate_maker"


async def start_certificates(ctx: ServiceContext) -> None:
    peers = Peers(ctx.settings)
    ctx.extras[PEERS] = peers

    async def close_peers(grace: float) -> None:
        await peers.aclose()

    ctx.at_shutdown(close_peers)

    key = await asyncio.to_thread(payload_key, ctx.settings)
    log.info("QR payloads of province %s are sealed with key %s", ctx.settings.province, key.kid)
    # One renderer per process (fonts loaded once, Typst's memo warm); it serialises its callers.
    renderer = await asyncio.to_thread(CertificateRenderer)
    # The fonts' coverage (about 0.4 s to read) is loaded here, not on the first request's loop.
    await asyncio.to_thread(printable_code_points)
    ctx.extras[RENDERER] = renderer
    # Imported here: the worker reaches the peers and the renderer through this module.
    from services.certificates.batches.worker import start_print_worker

    start_print_worker(ctx)
    signer = await asyncio.to_thread(pdf_signer, ctx.settings)
    ctx.extras[PDF_SIGNER] = signer
    if signer is None:
        log.warning("no signing certificate configured: electronic certificates are not made")
        return
    # Imported here: the worker reaches the peers through ``peers_of`` below.
    from services.certificates.electronic import ElectronicCertificateMaker

    worker = ElectronicCertificateMaker(ctx, renderer, signer)
    ctx.extras[ELECTRONIC_WORKER] = worker
    worker.start()


def peers_of(ctx: ServiceContext) -> Peers:
    peers: Peers = ctx.extras[PEERS]
    return peers


def renderer_of(ctx: ServiceContext) -> CertificateRenderer:
    renderer: CertificateRenderer = ctx.extras[RENDERER]
    return renderer


def pdf_signer_of(ctx: ServiceContext) -> PdfSigner | None:
    signer: PdfSigner | None = ctx.extras.get(PDF_SIGNER)
    return signer
