"""Where the gateway's shipped data lives: schemas, policy profiles, examples.

The product card fixes `schemas/` and `policies/` at the top level of the repository, so
they are found relative to the source tree (the Dockerfile copies the tree whole).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
OPENAPI = SCHEMAS / "openapi.yaml"
XSD = SCHEMAS / "xsd"
POLICIES = ROOT / "policies"
EXAMPLES = ROOT / "examples"
