"""Reading policy profiles from `policies/` (the I/O the pure policy engine leaves out).

`load_profile("municipal-2021")` reads `policies/municipal-2021.yaml` (or, when there is no such
file, the overlay `policies/overlays/<name>.yaml`); a path (anything with a slash or a
.yaml/.yml suffix) is read as given.

An overlay (docs/policy.md, "Profile overlays") names the profile it changes with
`extends: <profile>` and states only what differs: mappings merge key by key, a list is
replaced, and `{append: [...]}` in place of a list adds to the base's list (a campaign's extra
blacklist cases). The result is validated as one whole profile. Every error is a `ProfileError` naming the
file. A loaded profile is remembered by path and modification time, so callers may ask for it
on every request without parsing YAML again.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from gateway.domain.policy.profile import Profile, ProfileError
from gateway.paths import POLICIES

OVERLAYS = POLICIES / "overlays"


def profile_path(name_or_path: str | os.PathLike[str]) -> Path:
    text = os.fspath(name_or_path)
    if "/" in text or os.sep in text or text.endswith((".yaml", ".yml")):
        return Path(text)
    path = POLICIES / f"{text}.yaml"
    overlay = OVERLAYS / f"{text}.yaml"
    return overlay if not path.exists() and overlay.exists() else path


def merge_overlay(base: Any, overlay: Any) -> Any:
    """`overlay` laid over `base`: mappings merge, `{append: [...]}` extends a list, anything
    else replaces."""
    if isinstance(overlay, dict) and set(overlay) == {"append"} and isinstance(base, list):
        return [*base, *(overlay["append"] or [])]
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = merge_overlay(base[key], value) if key in base else value
        return out
    return overlay


def available_profiles() -> list[str]:
    """The names of the profiles shipped in `policies/`."""
    return sorted(p.stem for p in POLICIES.glob("*.yaml"))


def load_profile(name_or_path: str | os.PathLike[str]) -> Profile:
    """The profile `name_or_path`, validated; ProfileError names the file, key and problem."""
    path = profile_path(name_or_path)
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        known = ", ".join(available_profiles()) or "none"
        raise ProfileError(str(path), "", f"no such profile file (shipped profiles: {known})") from None
    return _load(str(path), mtime)


@lru_cache(maxsize=32)
def _load(path: str, mtime_ns: int) -> Profile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(path, "", f"cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError(path, "", f"not valid YAML{where}: {problem}") from None
    if data is None:
        raise ProfileError(path, "", "the file is empty")
    if isinstance(data, dict) and "extends" in data:
        base_name = data.pop("extends")
        if not isinstance(base_name, str) or base_name == Path(path).stem:
            raise ProfileError(path, "extends", "names the profile this overlay changes (another file)")
        base = load_profile(base_name)
        data = merge_overlay(base.model_dump(mode="json", exclude={"source"}), data)
    profile = Profile.from_mapping(data, source=path)
    stem = Path(path).stem
    if Path(path).parent.resolve() == POLICIES.resolve() and profile.name != stem:
        raise ProfileError(path, "name", f"{profile.name!r} does not match the file name {stem!r}")
    return profile
