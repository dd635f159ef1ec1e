"""The exchange-database destination (前置库): bulletin items written as rows into agreed
tables, verdicts read back from the platform's feedback table (反馈表).

`adapter: adapters.exchange_db:factory` in `config/destinations.yaml`. `layout` names the
tables and columns (configuration: each province names them its own way), `adapter` is the
destination, `simulator` plays the platform (`gateway simulate exchange-db`).
"""

from adapters.exchange_db.adapter import ExchangeDbDestination, factory
from adapters.exchange_db.layout import Layout

__all__ = ["ExchangeDbDestination", "Layout", "factory"]
