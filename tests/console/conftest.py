"""The console tests share the ops fixtures (access, observability and console installed)."""

from tests.ops.conftest import anonymous, app, operator, operator_key, wired  # noqa: F401
