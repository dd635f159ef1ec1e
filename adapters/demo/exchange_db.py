"""The demo's exchange-database destination (a SQLite file under var/demo) and its platform.

`add_destination` adds the destination entry to the demo's destinations; `start_platform`
runs `adapters.exchange_db.simulator.process` every half second in a thread (the platform
reading rows and writing verdicts); `summary` counts rows written and verdicts read.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

NAME = "exchange-db"


def add_destination(destinations: dict[str, Any], var_dir: Path, keys_dir: Path, common: dict[str, Any]) -> Path:
    db_file = var_dir / "exchange.db"
    db_file.unlink(missing_ok=True)
    destinations[NAME] = {"adapter": "adapters.exchange_db:factory", **common, "receipt_timeout_seconds": 1,
                          "subscription": {"item_kinds": ["penalty", "licence"]}, "trust": "dev",
                          "options": {"url": f"sqlite:///{db_file}", "keys_dir": str(keys_dir), "create_tables": True}}
    return db_file


class Platform:
    def __init__(self, db_file: Path) -> None:
        from adapters.exchange_db.adapter import engine_for
        from adapters.exchange_db.layout import Layout, Schema

        self.engine = engine_for(f"sqlite:///{db_file}")
        self.layout = Layout()
        Schema(self.layout).create(self.engine)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-exchange-db", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from adapters.exchange_db.simulator import process

        while not self._stop.wait(0.5):
            try:
                process(self.engine, self.layout)
            except sa.exc.OperationalError:  # the gateway is writing: next pass
                continue

    def summary(self) -> str:
        from adapters.exchange_db.layout import Schema

        schema = Schema(self.layout)
        f = self.layout.feedback
        with self.engine.connect() as conn:
            rows = sum(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in schema.data_tables())
            verdicts = dict(conn.execute(sa.select(schema.feedback.c[f.verdict], sa.func.count())
                                         .group_by(schema.feedback.c[f.verdict])).all())
        return (f"exchange-db: {rows} rows written, verdicts read: {verdicts.get(f.accepted, 0)} accepted, "
                f"{verdicts.get(f.rejected, 0)} rejected")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.engine.dispose()
