"""`gateway run` (everything in one process) and `gateway serve` (the HTTP API only)."""

from __future__ import annotations

import argparse
import logging

from gateway.cli._common import add_config_option, services_from


def register(subparsers) -> None:  # noqa: ANN001
    for name, helptext in (
        ("run", "run the gateway: API and, as they are configured, workers and scheduler (the default layout)"),
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


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.app import create_app
    from gateway.logging_setup import configure_logging

    services = services_from(args)
    settings = services.settings
    configure_logging(settings.log_level, settings.log_json)
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    if getattr(args, "demo", False):
        from gateway.demo import install_demo

        install_demo(services)
    for hook in services.extras.get("run_hooks", []) if args.layout == "run" else []:
        hook(services)
    app = create_app(services)
    config = uvicorn.Config(app, host=host, port=port, log_level=settings.log_level.lower(), access_log=False, log_config=None,
                            timeout_graceful_shutdown=10)
    server = _AnnouncingServer(config, database=_describe(settings.database_url))
    server.run()
    from gateway.scheduler import stop_scheduler

    stop_scheduler(services)
    services.close()
    return 0


def _describe(url: str) -> str:
    return url if url.startswith("sqlite") else url.split("@")[-1]


class _AnnouncingServer:
    """uvicorn.Server that prints where it listens once the socket is bound (port 0 included)."""

    def __init__(self, config, database: str) -> None:  # noqa: ANN001
        import uvicorn

        self.server = uvicorn.Server(config)
        self.database = database

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
        await task
