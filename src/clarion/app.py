"""The ASGI application: routers, middleware and error handlers, wired once."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from clarion import __version__
from clarion.assistants.hot_paths import AssistantHotPaths
from clarion.assistants.rendered import RenderedAssistants
from clarion.assistants.routes import router as assistants_router
from clarion.auth.cache import KeyCache
from clarion.checkpoints import CHECKPOINTS
from clarion.config import Settings
from clarion.db import Database
from clarion.encryption import SecretBox, load_server_key
from clarion.errors import install_error_handlers
from clarion.front import Front
from clarion.health import router as health_router
from clarion.openapi import install_openapi
from clarion.request_log import AccessLog, configure_logging, stderr_access_log
from clarion.runtime.registry import Runtime
from clarion.web import BodySizeLimit, ORJSONResponse
from clarion.webhooks.routes import router as webhooks_router
from clarion.webhooks.signing import load_signer
from clarion.webhooks.worker import DeliveryWorker


def create_app(
    settings: Settings | None = None,
    key_cache: KeyCache | None = None,
    access_log: AccessLog | None = None,
) -> Front:
    """Build the application. The database must already be migrated (see clarion.migrate)."""
    settings = settings or Settings()
    database = Database(settings.database)
    secrets = SecretBox(load_server_key(settings))
    signer = load_signer(settings)
    worker = DeliveryWorker(database, settings, signer, secrets)
    runtime = Runtime()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        database.start_checkpoints(status=runtime.status(CHECKPOINTS))
        stop = asyncio.Event()
        works = [worker] if settings.run_worker else []
        background = asyncio.create_task(runtime.run(works, stop))
        yield
        stop.set()
        await background
        await database.aclose()

    app = FastAPI(
        title="Clarion API",
        version=__version__,
        lifespan=lifespan,
        default_response_class=ORJSONResponse,
        docs_url="/docs",
        redoc_url=None,
        # No OpenTelemetry here; FastAPI's check for it cost ~25 us on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.database = database
    app.state.secret_box = secrets
    app.state.signer = signer
    app.state.delivery_wakeup = worker.wakeup
    app.state.runtime = runtime
    app.state.key_cache = key_cache or KeyCache()
    app.state.rendered_assistants = RenderedAssistants()
    app.include_router(health_router)
    app.include_router(assistants_router)
    app.include_router(webhooks_router)
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    hot_paths = (
        AssistantHotPaths(
            database,
            app.state.key_cache,
            app.state.rendered_assistants,
            secrets,
            settings.max_body_bytes,
        )
        if settings.hot_paths
        else None
    )
    return Front(app, hot_paths, access_log or stderr_access_log(settings.log_format))


def create_server_app() -> Front:
    """The application as `clarion serve` runs it: settings from the environment, logs set up."""
    settings = Settings()
    configure_logging(settings.log_format)
    app = create_app(settings)
    # What exists now (modules, the app, compiled statements) lives as long as the process:
    # keep it out of the collector's full passes, which otherwise stall the event loop for
    # ~45 ms every few thousand requests.
    gc.freeze()
    return app
