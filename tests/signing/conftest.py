"""Make `signing_helpers` importable from the tests beside it (no packages under tests/)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
