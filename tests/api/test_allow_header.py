"""A 405 names every method the spec documents for the path (`Allow`, RFC 9110 §15.5.6), not only
those of the first route that matched: connexion adds one route per operation, and Starlette
answered `GET, HEAD` for paths that also take DELETE or POST."""

from __future__ import annotations

import re

import yaml

from gateway.paths import OPENAPI

METHODS = ("get", "put", "post", "delete", "patch")


def _paths() -> dict[str, set[str]]:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    out = {}
    for path, item in spec["paths"].items():
        methods = {m.upper() for m in METHODS if m in item}
        if methods and "{" in path or len(methods) > 1:
            out[path] = methods | ({"HEAD"} if "GET" in methods else set())
    return out


def test_a_405_lists_every_documented_method_of_the_path(client):
    checked = 0
    for path, methods in _paths().items():
        concrete = re.sub(r"\{[^}]+\}", "x1", path)
        r = client.request("OPTIONS", concrete)
        assert r.status_code == 405, (path, r.status_code)
        assert set(r.headers["allow"].split(", ")) == methods, (path, r.headers["allow"])
        checked += 1
    assert checked > 10
