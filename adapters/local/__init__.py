"""The recording loopback destination (tests, the bench, the default `local` destination).

`adapter: adapters.local:factory` in the destinations file: with `options.url` it pushes over
HTTP to a recorder server (`python -m adapters.local`), without it the same recorder runs
in-process. It applies each delivery id once and signs its receipts (see `recorder`).
"""

from adapters.local.recorder import InProcessDestination, Recorder, factory, load_records

__all__ = ["InProcessDestination", "Recorder", "factory", "load_records"]
