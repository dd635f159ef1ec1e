"""Every table of the gateway on one MetaData (what Alembic compares against).

Each capability defines its tables in its own module on `tables.metadata`; importing them
here makes the whole schema visible to migrations and to tests that build it.
"""

import gateway.store.access_tables  # noqa: F401
import gateway.store.calendar_tables  # noqa: F401
import gateway.store.change_tables  # noqa: F401
import gateway.store.delivery_tables  # noqa: F401
import gateway.store.policy_tables  # noqa: F401
import gateway.store.publication_tables  # noqa: F401
import gateway.store.watch_tables  # noqa: F401
from gateway.store import tables  # noqa: F401
from gateway.store.tables import metadata

__all__ = ["metadata"]
