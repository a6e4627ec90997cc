"""Generate the spec reference (docs/spec-reference.md) from the spec's pydantic models (pure).

Types, defaults and required keys come from the models' JSON Schema; descriptions from
the models' docstrings, a field's own `description`, or FIELD_NOTES below. A test keeps
the committed file equal to `render_spec_reference()`; regenerate it with:

    python -m engine.render.specref > docs/spec-reference.md
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from engine.spec.models import Environment

Node = dict[str, Any]

FIELD_NOTES: dict[str, str] = {
    "Environment.environment": "The environment's name; state and plans carry it.",
    "Environment.vars": "Variables for `{{ name }}` in every string of the spec.",
    "Environment.state": "Where the state document lives.",
    "Environment.sites": "Locations, by name.",
    "Environment.hosts": "Machines, by name.",
    "Environment.products": "Product distributions, by key such as `wso2am-4.2.0`.",
    "Environment.servers": "Product installations, by name (`server.<name>`).",
    "Environment.databases": "Databases, by name (`database.<name>`); `engine` picks the kind.",
    "Environment.repositories": "Backup repositories, by name; `type` picks the kind.",
    "Environment.backups": "Backup policies, by name (`backup.<name>`).",
    "Environment.drills": "Restore drills, by name (`drill.<name>`).",
    "Environment.recover": "Per site that takes over: what replaces what when a site is lost.",
    "Environment.ignore": "Attributes whose drift is noise (not reported by `drift`).",
    "StateConfig.path": "Local state file, relative to the spec folder "
                        "(default `.drydock/state/<environment>.json`).",
    "StateConfig.key": "S3 object key (default `drydock/<environment>.json`).",
    "StateConfig.endpoint_url": "S3-compatible endpoint (tests, MinIO).",
    "Host.site": "The site the host belongs to.",
    "Host.root": "Folder that server homes are relative to (absolute for `ssh`).",
    "Product.pack": "The product pack zip.",
    "Product.updates": "Folder of update packages (`WSO2-CARBON-UPDATE-<v>-<NNNN>.zip`).",
    "Product.patches": "Folder of patch archives (`WSO2-CARBON-PATCH-<kernel>-<NNNN>.zip`).",
    "Server.host": "The host it runs on.",
    "Server.product": "A key of `products`.",
    "Server.home": "Product home, relative to the host's `root`: no leading `/`, no `..`, "
                   "not inside another server's home on the same host.",
    "Server.update_level": "Wanted update level (-1 to 9999); levels apply one after "
                           "another. Unset: not managed; -1: never updated.",
    "Server.strategy": "`in-place` updates the home; `replace` installs the updated pack "
                       "beside it and switches.",
    "Server.conflicts": "What to do when an update would overwrite a locally changed file.",
    "Server.patches": "Patch ids (`WSO2-CARBON-PATCH-4.9.0-0005`) that must be installed; "
                      "others are removed.",
    "Server.config": "Managed files, by path relative to the home (no leading `/`, no `..`).",
    "Server.ignore": "Attribute patterns whose drift is noise on this server "
                     "(`config:*`, `patches`).",
    "ConfigFile.vars": "Extra template variables for this file.",
    "ConfigFile.mode": "File mode as octal digits in a string, `\"0640\"` (0 to 0777); an "
                       "integer from older specs is read as a number (420 = 0644).",
    "Service.start": "Start command, relative to the home (no shell).",
    "Service.stop": "Stop command, relative to the home (no shell).",
    "HealthCheck.timeout": "How long to wait for the server to become healthy.",
    "Rollout.max_unavailable": "Servers of the group changed at the same time.",
    "SqliteDatabase.path": "Database file, relative to the spec folder.",
    "ServerDatabase.password": "A secret reference, resolved only when an action runs.",
    "S3Repository.prefix": "Key prefix inside the bucket.",
    "BackupPolicy.every": "RPO: a backup is planned when the newest snapshot is older.",
    "BackupPolicy.keep": "Retention rules (restic-compatible, plus `min_verified`).",
    "BackupPolicy.timezone": "Time zone for retention's hourly/daily/... buckets.",
    "BackupPolicy.repository": "Where snapshots are written.",
    "BackupPolicy.copies": "Repositories every snapshot is copied to and verified in.",
    "BackupPolicy.pinned": "Snapshot ids retention never deletes.",
    "BackupSource.paths": "Paths under the server home or `root` to back up.",
    "Drill.backup": "The backup policy whose snapshots are restored (not for a site drill).",
    "Drill.site": "A site drill: rehearse `recover --site SITE` end to end into scratch "
                  "targets (`into: {root: PATH}`), every server health-checked, every "
                  "database checked, the whole rehearsal timed against `rto`.",
    "Drill.from": "The repository to restore from (default: the policy's own).",
    "Drill.every": "How often the drill must pass.",
    "Drill.pick": "Which snapshot to restore.",
    "Drill.into": "The scratch target, torn down afterwards.",
    "Drill.verify": "Checks run on the restored data.",
    "Drill.rto": "The restore must finish within this time.",
    "DrillCheck.expect": "For `sql`: a comparison with the first value (`>= 1`, `= 500`, "
                         "`!=`/`<>`, `<`, `<=`, `>`).",
    "RecoverMapping.hosts": "Lost host -> host at this site.",
    "RecoverMapping.databases": "Lost database -> declared replacement.",
    "RecoverMapping.repositories": "Where the data comes from (default: this site's).",
    "RecoverMapping.failback": "The site left still runs: final backup there first, stop "
                               "its servers once the rebuilt ones are healthy.",
    "StateConfig.backend": "`local` file, or `s3` object with a conditional-write lock.",
    "StateConfig.bucket": "S3 bucket (backend `s3`).",
    "StateConfig.region": "AWS region (backend `s3`).",
    "Site.description": "Free text shown in plans.",
    "Host.transport": "How drydock reaches the host: `local` (this machine) or `ssh`.",
    "Host.address": "Name or IP address of an ssh host (required for `ssh`).",
    "Host.port": "SSH port.",
    "Host.user": "Login name on an ssh host (default: the user running drydock).",
    "Host.identity": "Private key for an ssh host: `{file: PATH}` or `{env: NAME}` "
                     "holding the key text (default: `~/.ssh/id_*` and the agent).",
    "Host.known_hosts": "known_hosts file that must hold the host's key (default "
                        "`~/.ssh/known_hosts`); unknown or changed keys are refused.",
    "Host.connect_timeout": "Longest wait for an ssh host to connect and log in.",
    "Host.command_timeout": "Longest wait for one file operation or fact command on "
                            "the host (commands with their own timeout use it).",
    "KeyFile.file": "Path, relative to the spec folder; `~` expands.",
    "Product.layout": "The home layout; `carbon` is the WSO2 Carbon layout.",
    "Product.name": "Product name when the key does not say it (`wso2am`).",
    "Product.version": "Product version when the key does not say it (`4.2.0`).",
    "Server.service": "How to start, stop and health-check it; without it drydock never "
                      "stops or starts the server.",
    "Server.rollout": "Rollout group limiting how many servers change at once.",
    "ConfigFile.template": "Jinja2 template file, relative to the spec folder and inside "
                           "it once symlinks are resolved (sandboxed, undefined names are "
                           "errors, Ansible's filters available).",
    "ConfigFile.content": "Inline content (templated like a template file).",
    "Service.health": "Probe that must pass after a start.",
    "HealthCheck.http": "URL that must answer `expect_status`.",
    "HealthCheck.command": "Command that must exit 0, relative to the home.",
    "HealthCheck.expect_status": "HTTP status that means healthy.",
    "HealthCheck.from": "Where the URL is fetched: `host` (on the server's host, through its "
                         "transport) or `controller` (where drydock runs).",
    "Rollout.group": "Group name shared by servers that must not all change at once.",
    "SqliteDatabase.site": "The site the database lives at (recovery, backups).",
    "ServerDatabase.host": "Server address.",
    "ServerDatabase.port": "Server port (default 5432 for postgres, 3306 otherwise).",
    "ServerDatabase.user": "User to connect as.",
    "ServerDatabase.dbname": "Database name.",
    "ServerDatabase.site": "The site the database lives at.",
    "RdsDatabase.identifier": "DB instance identifier.",
    "RdsDatabase.region": "AWS region.",
    "RdsDatabase.site": "The site the database lives at.",
    "LocalRepository.site": "The site the repository belongs to.",
    "LocalRepository.path": "Folder of the repository, relative to the spec folder.",
    "S3Repository.site": "The site the repository belongs to.",
    "S3Repository.bucket": "Bucket name.",
    "S3Repository.region": "AWS region.",
    "S3Repository.endpoint_url": "S3-compatible endpoint (tests, MinIO).",
    "LocalRepository.hmac_key": "Secret that signs manifests (HMAC-SHA256); snapshots "
                                "without a valid signature are then never restored.",
    "S3Repository.hmac_key": "Secret that signs manifests (HMAC-SHA256); snapshots "
                             "without a valid signature are then never restored.",
    "AwsRepository.site": "The site the region serves.",
    "AwsRepository.region": "AWS region of AMIs and RDS snapshots.",
    "AwsRepository.endpoint_url": "Endpoint override (tests).",
    "BackupPolicy.source": "What is backed up.",
    "BackupPolicy.tags": "Tags every snapshot of the series carries (see `keep.tags`).",
    "BackupSource.database": "A key of `databases`.",
    "BackupSource.server": "A key of `servers`; `paths` are under its home.",
    "BackupSource.root": "A folder; `paths` are under it.",
    "Drill.window": "Restore a snapshot from within this age (with `pick: random`).",
    "DrillTarget.database": "A scratch database declared inline.",
    "DrillTarget.directory": "A scratch folder for file snapshots.",
    "DrillTarget.root": "For a site drill: the folder (relative to each host's root) holding "
                        "each host's scratch root `PATH/<host>`.",
    "DrillTarget.host": "The host the folder is on (relative to its root); default: where "
                        "drydock runs.",
    "DrillCheck.sql": "A query run on the restored database.",
    "DrillCheck.files": "Paths that must exist in the restored files.",
    "DrillCheck.command": "A command that must exit 0 (no shell).",
    "SecretRef.env": "Name of an environment variable holding the secret.",
    "SecretRef.file": "Path of a file holding the secret.",
    "KeepPolicy.last": "Keep the newest N snapshots.",
    "KeepPolicy.hourly": "Keep the newest snapshot of each of the last N hours.",
    "KeepPolicy.daily": "... of each of the last N days.",
    "KeepPolicy.weekly": "... of each of the last N weeks.",
    "KeepPolicy.monthly": "... of each of the last N months.",
    "KeepPolicy.yearly": "... of each of the last N years.",
    "KeepPolicy.within": "Keep every snapshot within this duration of the newest.",
    "KeepPolicy.within_hourly": "Keep one per hour within this duration.",
    "KeepPolicy.within_daily": "Keep one per day within this duration.",
    "KeepPolicy.within_weekly": "Keep one per week within this duration.",
    "KeepPolicy.within_monthly": "Keep one per month within this duration.",
    "KeepPolicy.within_yearly": "Keep one per year within this duration.",
    "KeepPolicy.tags": "Tag sets; a snapshot with all tags of one set is kept.",
    "KeepPolicy.min_verified": "Keep the newest N verified snapshots whatever else says.",
    "IgnoreRule.address": "Address pattern (fnmatch), e.g. `server.gw-*`.",
    "IgnoreRule.attributes": "Attribute patterns (fnmatch), e.g. `config:*`.",
}
"""Descriptions for fields whose model gives none, keyed `Model.key` (alias spelling)."""

INTRO = """\
Every `*.yaml` file of an environment folder is merged into one document with the keys
below; a resource may be declared in any file, but only once. Unknown keys are errors.
Every string may use `{{ name }}` with the names of `vars`. Durations are written like
`90s`, `15m`, `24h`, `7d`, `2w` (or `1h30m`). Relative paths are relative to the spec
folder, and a server's `home` to its host's `root`. Secrets are references
(`{env: NAME}` or `{file: PATH}`), never values.

`drydock schema` prints the same models as JSON Schema for editors. Default `(empty)`
means an empty list or mapping, `(defaults)` the section with all its defaults."""


def _anchor(name: str) -> str:
    return name.lower()


def _ref_name(node: Node) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


def type_text(node: Node) -> str:
    """A short readable type of a JSON Schema node, linking model names to their section."""
    name = _ref_name(node)
    if name:
        return f"[{name}](#{_anchor(name)})"
    if "oneOf" in node or "anyOf" in node:
        options = [o for o in node.get("oneOf", node.get("anyOf", [])) if o.get("type") != "null"]
        text = " or ".join(type_text(o) for o in options)
        key = node.get("discriminator", {}).get("propertyName")
        return f"{text} (by `{key}`)" if key else text
    if "enum" in node:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in node["enum"])
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    kind = node.get("type")
    if kind == "array":
        return "list of " + type_text(node.get("items", {}))
    if kind == "object":
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return "map of name → " + type_text(extra)
        return "mapping"
    if kind == "string":
        return "duration" if node.get("format") == "duration" else "string"
    if kind == "integer":
        low = node.get("minimum", node.get("exclusiveMinimum"))
        return "integer" + (f" ≥ {low}" if low is not None and "minimum" in node else "")
    if kind in ("number", "boolean"):
        return str(kind)
    return "any"


def _refs(node: Any) -> Iterator[str]:
    """Model names referenced anywhere under a node, in document order."""
    if isinstance(node, dict):
        name = _ref_name(node)
        if name:
            yield name
        for key, value in node.items():
            if key != "discriminator":
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _description(text: str | None) -> str:
    """The prose of a docstring: up to the first doctest, paragraphs kept."""
    if not text:
        return ""
    lines = []
    for line in text.strip().splitlines():
        if line.strip().startswith(">>>"):
            break
        lines.append(line.strip())
    paragraphs = " ".join(lines).strip()
    return paragraphs.replace("  ", " ")


def _cell(text: str) -> str:
    return text.replace("\n", " ").replace("|", "\\|")


def _table(model: str, schema: Node, defaults: Node) -> list[str]:
    required = set(schema.get("required", []))
    out = ["| key | type | default | description |", "|---|---|---|---|"]
    for key, node in schema.get("properties", {}).items():
        if key in required:
            default = "required"
        elif "default" in defaults.get(key, {}):
            default = f"`{json.dumps(defaults[key]['default'])}`"
        elif _ref_name(node):
            default = "(defaults)"
        else:
            default = "(empty)"
        note = node.get("description") or FIELD_NOTES.get(f"{model}.{key}", "")
        out.append(f"| `{key}` | {type_text(node)} | {default} | {_cell(note)} |")
    return out


def render_spec_reference(root: type[BaseModel] = Environment) -> str:
    """The spec reference as markdown: the root model, then every model it uses, in the
    order they are first referenced. Takes the root model; returns the document text."""
    validation = root.model_json_schema(by_alias=True)
    serial = root.model_json_schema(by_alias=True, mode="serialization")
    defs: dict[str, Node] = validation.get("$defs", {})
    serial_defs: dict[str, Node] = serial.get("$defs", {})
    order: list[str] = []
    queue = list(_refs(validation.get("properties", {})))
    while queue:
        name = queue.pop(0)
        if name in order or name not in defs:
            continue
        order.append(name)
        queue.extend(_refs(defs[name].get("properties", {})))
    out = ["# Spec reference", "",
           "<!-- Generated from the pydantic models by engine/render/specref.py; do not edit. "
           "Regenerate: python -m engine.render.specref > docs/spec-reference.md -->", "",
           INTRO, "", f"## {root.__name__}", "",
           _description(root.__doc__) + " These are the top-level keys of a spec.", ""]
    out += _table(root.__name__, validation, serial.get("properties", {}))
    for name in order:
        schema = defs[name]
        out += ["", f"## {name}", "", _description(schema.get("description")), ""]
        out += _table(name, schema, serial_defs.get(name, schema).get("properties", {}))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_spec_reference())
