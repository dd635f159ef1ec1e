"""`gateway run` (everything in one process) and `gateway serve` (the HTTP API only).

`gateway run --demo` asks the installed demo (entry point `gateway.demo`, shipped with the
adapters) to start its destination simulators on loopback and feed `examples/` through them.
"""

from __future__ import annotations

import argparse
import logging
from importlib.metadata import entry_points

from gateway.cli import EXIT_USAGE
from gateway.cli._common import add_config_option, settings_from


def register(subparsers) -> None:  # noqa: ANN001
    for name, helptext in (
        ("run", "run the gateway: the API, the change-feed consumer, the delivery worker and the scheduler"),
        ("serve", "run the HTTP API only"),
    ):
        parser = subparsers.add_parser(name, help=helptext)
        parser.add_argument("--host", help="listen address (GATEWAY_HOST)")
        parser.add_argument("--port", type=int, help="listen port (GATEWAY_PORT); 0 picks a free one")
        if name == "run":
            parser.add_argument("--demo", action="store_true",
                                help="start the destination simulators on loopback and feed examples/ through them")
        add_config_option(parser)
        parser.set_defaults(func=_serve, layout=name)


def _demo():  # noqa: ANN202
    found = [ep for ep in entry_points(group="gateway.demo") if ep.name == "demo"]
    return found[0].load() if found else None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.bootstrap import build
    from gateway.logging_setup import configure_logging
    from gateway.runtime import Background, tune_collector
    from gateway.store import migrate

    settings = settings_from(args)
    configure_logging(settings.log_level, settings.log_json)
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    demo = None
    if getattr(args, "demo", False):
        prepare = _demo()
        if prepare is None:
            print("gateway run --demo: the demo is not installed (pip install -e .)", flush=True)
            return EXIT_USAGE
        demo = prepare(settings)
        log_file = getattr(demo, "log_file", None)
        if log_file is not None:  # the screen is for the demo's story: the logs go to a file
            _log_to_file(settings, log_file)
    services = build(settings, destinations=demo.registry if demo else None,
                     keyring=demo.keyring if demo else None)
    if settings.should_migrate_on_start:
        migrate.upgrade(services.db)
    background = None
    if args.layout == "run":
        background = Background(services, extras=[demo.feeder] if demo else [],
                                announce=lambda m: logging.getLogger("gateway.scheduler").info("%s", m)).start()
    app = create_app(services)
    tune_collector()
    config = uvicorn.Config(app, host=host, port=port, log_level=settings.log_level.lower(), access_log=False,
                            log_config=None, timeout_graceful_shutdown=10)
    try:
        _AnnouncingServer(config, database=_describe(settings.database_url),
                          listening=getattr(demo, "listening", None)).run()
    finally:
        if background is not None:
            background.stop()
        if demo is not None:
            demo.stop()
        services.close()
    return 0


def _log_to_file(settings, path) -> None:  # noqa: ANN001
    """Every log line to `path`; warnings and errors also to stderr."""
    import sys

    from gateway.logging_setup import build_formatter, configure_logging

    path.parent.mkdir(parents=True, exist_ok=True)
    configure_logging(settings.log_level, settings.log_json, stream=open(path, "a", encoding="utf-8"))  # noqa: SIM115
    screen = logging.StreamHandler(sys.stderr)
    screen.setLevel(logging.WARNING)
    screen.setFormatter(build_formatter(settings.log_json))
    logging.getLogger().addHandler(screen)


def _describe(url: str) -> str:
    return url if url.startswith("sqlite") else url.split("@")[-1]


class _AnnouncingServer:
    """uvicorn.Server that prints where it listens once the socket is bound (port 0 included)."""

    def __init__(self, config, database: str, listening=None) -> None:  # noqa: ANN001
        import uvicorn

        self.server = uvicorn.Server(config)
        self.database = database
        self.listening = listening

    def run(self) -> None:
        import asyncio

        asyncio.run(self._serve())

    async def _serve(self) -> None:
        import asyncio

        task = asyncio.create_task(self.server.serve())
        while not self.server.started and not task.done():
            await asyncio.sleep(0.05)
        if self.server.started:
            for srv in self.server.servers:
                for sock in srv.sockets:
                    host, port = sock.getsockname()[:2]
                    print(f"gateway listening on http://{host}:{port} (database: {self.database})", flush=True)
                    logging.getLogger("gateway").info("listening on http://%s:%s", host, port)
                    if self.listening is not None:
                        self.listening(f"http://{host}:{port}")
        await task
