"""Which background work a process runs, registered once for `clarion serve` and
`clarion worker`: the wiring of the loops, at the top beside clarion.app, so that the runtime
that runs them knows nothing of what they do."""

from __future__ import annotations

import asyncio

from clarion.after_call.loops import AfterCalls
from clarion.config import Settings
from clarion.database import Database
from clarion.engine.live import LiveCalls
from clarion.phone_calls.dialer import Dialer
from clarion.runtime.registry import BackgroundWork
from clarion.storage.secret_box import SecretBox
from clarion.webhooks.signing import Signer
from clarion.webhooks.worker import DeliveryWorker


def background_work(
    settings: Settings,
    database: Database,
    signer: Signer,
    secrets: SecretBox,
    delivery_due: asyncio.Event,
    *,
    deliver: bool = True,
    live_calls: LiveCalls | None = None,
    after_calls: AfterCalls | None = None,
    dialer: Dialer | None = None,
) -> list[BackgroundWork]:
    """Every piece of background work a process runs, registered once for `clarion serve` and
    `clarion worker`. ``delivery_due`` is set when this process commits a delivery.

    A server holds live calls (``live_calls``); every process ends the calls nobody holds
    and analyses and reports ended ones (``after_calls``, made here when not given), and
    places outbound phone calls (``dialer``, likewise).
    """
    works: list[BackgroundWork] = []
    if deliver:
        works.append(DeliveryWorker(database, settings, signer, secrets, delivery_due))
    if live_calls is not None:
        works.append(live_calls)
    works.append(
        after_calls or AfterCalls(settings, database, secrets, asyncio.Event(), delivery_due)
    )
    works.append(dialer or Dialer(settings, database, secrets))
    return works
