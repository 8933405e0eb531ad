"""The ASGI application: routers, middleware and error handlers, wired once."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from clarion import __version__
from clarion.after_call.loops import AfterCalls
from clarion.api.access_log import AccessLog, configure_logging, stderr_access_log
from clarion.api.docs_page import router as docs_router
from clarion.api.errors import install_error_handlers
from clarion.api.front import Front
from clarion.api.requests import BodyLimit
from clarion.api.responses import ORJSONResponse
from clarion.assistants.lanes import AssistantLane
from clarion.assistants.rendered import RenderedAssistants
from clarion.assistants.routes import router as assistants_router
from clarion.auth.cache import KeyCache
from clarion.auth.routes import router as api_keys_router
from clarion.background import background_work
from clarion.call_reads.routes import router as call_reads_router
from clarion.calls.routes import router as calls_router
from clarion.config import Settings
from clarion.console.routes import router as console_router
from clarion.credentials.routes import router as credentials_router
from clarion.database import Database
from clarion.database.checkpoints import CHECKPOINTS
from clarion.engine.live import LiveCalls
from clarion.health import router as health_router
from clarion.openapi_document import install_openapi
from clarion.people.passwords import Passwords
from clarion.people.routes import router as people_router
from clarion.phone_calls.dialer import Dialer
from clarion.phone_calls.routes import router as phone_calls_router
from clarion.phone_numbers.routes import router as phone_numbers_router
from clarion.runtime.drains import drain_before_stopping
from clarion.runtime.registry import Runtime
from clarion.services import Services
from clarion.storage.secret_box import SecretBox, load_server_key
from clarion.talk.routes import router as talk_router
from clarion.webhooks.routes import router as webhooks_router
from clarion.webhooks.signing import load_signer


def create_app(
    settings: Settings | None = None,
    key_cache: KeyCache | None = None,
    access_log: AccessLog | None = None,
) -> Front:
    """Build the application. The database must already be migrated (clarion.database.migrate)."""
    settings = settings or Settings()
    database = Database(settings.database)
    secrets = SecretBox(load_server_key(settings))
    delivery_due, after_call_due = asyncio.Event(), asyncio.Event()
    services = Services(
        settings=settings,
        database=database,
        secrets=secrets,
        signer=load_signer(settings),
        key_cache=key_cache or KeyCache(),
        runtime=Runtime(),
        body_limit=BodyLimit(settings.max_body_bytes),
        rendered_assistants=RenderedAssistants(),
        delivery_due=delivery_due,
        live_calls=LiveCalls(settings, database, secrets, after_call_due),
        after_calls=AfterCalls(settings, database, secrets, after_call_due, delivery_due),
        dialer=Dialer(settings, database, secrets),
        passwords=Passwords(settings.password_hash_memory_kib, settings.password_hash_iterations),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        database, runtime = services.database, services.runtime
        database.start_checkpoints(status=runtime.status(CHECKPOINTS))
        stop = asyncio.Event()
        works = background_work(
            settings,
            database,
            services.signer,
            services.secrets,
            services.delivery_due,
            deliver=settings.run_worker,
            live_calls=services.live_calls,
            after_calls=services.after_calls,
            dialer=services.dialer,
        )
        drain_before_stopping(partial(_on_stop_signal, services))
        background = asyncio.create_task(runtime.run(works, stop))
        yield
        try:
            # Calls still held (a server without the signal drain) end properly, reported.
            await _drain(services, 0.0)
        finally:
            stop.set()  # a report that could not be queued does not keep the loops running
            await background
            await database.aclose()

    app = FastAPI(
        title="Clarion API",
        version=__version__,
        lifespan=lifespan,
        default_response_class=ORJSONResponse,
        docs_url=None,  # served by clarion.api.docs_page, without a CDN
        redoc_url=None,
        # No OpenTelemetry here; FastAPI's check for it costs time on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    app.include_router(health_router)
    app.include_router(assistants_router)
    app.include_router(webhooks_router)
    app.include_router(credentials_router)
    app.include_router(phone_numbers_router)
    app.include_router(calls_router)
    app.include_router(phone_calls_router)
    app.include_router(talk_router)
    app.include_router(people_router)
    app.include_router(api_keys_router)
    app.include_router(call_reads_router)
    app.include_router(console_router)
    app.include_router(docs_router)
    install_error_handlers(app)
    install_openapi(app)
    lanes = [AssistantLane(services)]
    return Front(app, lanes, access_log or stderr_access_log(settings.log_format))


async def _on_stop_signal(services: Services, signum: int) -> None:
    """Before the server stops: on SIGTERM let the live calls go on for a while; on SIGINT
    (someone at a terminal) do not wait."""
    seconds = services.settings.call_drain_seconds if signum == signal.SIGTERM else 0.0
    await _drain(services, seconds)


async def _drain(services: Services, seconds: float) -> None:
    """Take no new calls, let the live ones and the analyses under way go on for ``seconds``,
    end the rest as server-shutdown, and hand the analyses still running over to another
    process (or this one, restarted). Of the calls let go meanwhile, the reports that need no
    analysis are queued; the others wait, pending, for a process to analyse them."""
    deadline = asyncio.get_running_loop().time() + seconds
    services.after_calls.stop_claiming()
    ended = await services.live_calls.drain(seconds)
    await services.after_calls.hand_over(ended, deadline)


def create_server_app() -> Front:
    """The application as `clarion serve` runs it: settings from the environment, logs set up."""
    settings = Settings()
    configure_logging(settings.log_format)
    app = create_app(settings)
    # What exists now (modules, the app, compiled statements) lives as long as the process:
    # keep it out of the collector's full passes, which otherwise stall the event loop now and
    # then (the README's performance section has the figures).
    gc.freeze()
    return app
