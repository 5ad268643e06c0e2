"""Generate the compact Bot API description bundled with the emulator.

Reads ``api.json`` from the telegram-bot-api-spec project (MIT licence,
https://github.com/PaulSonOfLars/telegram-bot-api-spec) and writes
``bot/devtools/botapi_spec.json``: for every method its parameters (types, required) and
return types, for every type its fields (types, required) and subtypes, plus the
Bot API version. The upstream licence is copied to ``bot/devtools/botapi_spec.LICENSE``.

Usage: python tests/botapi/make_spec.py [--api PATH/api.json] [--out bot/devtools/botapi_spec.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_API = REPO_ROOT.parent / "shared" / "botapi" / "api.json"  # the team's shared folder
DEFAULT_OUT = REPO_ROOT / "bot" / "devtools" / "botapi_spec.json"
SOURCE = "telegram-bot-api-spec, https://github.com/PaulSonOfLars/telegram-bot-api-spec (MIT)"


def _fields(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f["name"]: {"types": list(f["types"]), "required": bool(f["required"])}
        for f in entry.get("fields", [])
    }


def compact(api: dict[str, Any]) -> dict[str, Any]:
    """Return the compact form of a telegram-bot-api-spec ``api.json`` document."""
    methods = {
        name: {"returns": list(m.get("returns", [])), "fields": _fields(m)}
        for name, m in sorted(api["methods"].items())
    }
    types: dict[str, Any] = {}
    for name, t in sorted(api["types"].items()):
        entry: dict[str, Any] = {"fields": _fields(t)}
        if t.get("subtypes"):
            entry["subtypes"] = list(t["subtypes"])
        types[name] = entry
    return {
        "source": SOURCE,
        "version": api["version"],
        "release_date": api.get("release_date", ""),
        "methods": methods,
        "types": types,
    }


def dumps(spec: dict[str, Any]) -> str:
    """Serialise with one method / type per line: small, and diffs stay readable."""
    out = ["{"]
    for key in ("source", "version", "release_date"):
        out.append(f"  {json.dumps(key)}: {json.dumps(spec[key])},")
    for section in ("methods", "types"):
        out.append(f"  {json.dumps(section)}: {{")
        items = list(spec[section].items())
        for i, (name, entry) in enumerate(items):
            comma = "," if i < len(items) - 1 else ""
            body = json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
            out.append(f"    {json.dumps(name)}: {body}{comma}")
        out.append("  }" + ("," if section == "methods" else ""))
    out.append("}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", type=Path, default=DEFAULT_API)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    api = json.loads(args.api.read_text(encoding="utf-8"))
    args.out.write_text(dumps(compact(api)), encoding="utf-8")
    licence = args.api.with_name("LICENSE")
    if licence.exists():
        header = f"bot/botapi_spec.json is derived from api.json of {SOURCE}.\n\n"
        args.out.with_suffix(".LICENSE").write_text(
            header + licence.read_text(encoding="utf-8"), encoding="utf-8"
        )
    print(f"wrote {args.out} ({api['version']})")


if __name__ == "__main__":
    main()
