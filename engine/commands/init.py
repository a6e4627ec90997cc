"""`drydock init DIR`: start a new environment folder.

It writes a skeleton spec that validates as it is (with examples to uncomment), the spec's
JSON Schema beside it for editors (each file names it in a yaml-language-server modeline),
a `.gitignore` for what drydock keeps locally, and a README for the people who will run it.
Nothing that exists is overwritten: a folder that already holds a spec is refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated

import typer

from engine.commands.common import err, fail

SCHEMA_FILE = "drydock.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA_FILE}\n"

ENVIRONMENT = MODELINE + """\
# The environment: its name, where its state lives, its sites and hosts, and the products
# its servers run. Every *.yaml file of this folder is merged into one spec.
environment: {name}
vars: {}                 # names for {{ }} in every string, e.g. {opt: /opt}
state: {backend: local, path: .drydock/state/{name}.json}
# For a team, keep the state in S3 (a conditional-write lock guards every run):
# state: {backend: s3, bucket: my-drydock-state, key: drydock/{name}.json, region: eu-west-1}
sites:
  primary: {}
hosts: {}
#  node-a:
#    site: primary
#    transport: ssh
#    address: 10.0.0.10
#    user: wso2
#    root: /opt
products: {}
#  wso2am-4.2.0:
#    layout: carbon
#    pack: /srv/wso2/packs/wso2am-4.2.0.zip
#    updates: /srv/wso2/updates          # WSO2-CARBON-UPDATE-4.9.0-*.zip
#    patches: /srv/wso2/patches          # WSO2-CARBON-PATCH-4.9.0-*.zip
"""

SERVERS = MODELINE + """\
# Product installations. Adopt one that already runs with 'drydock import server.NAME'
# after declaring it here as it is: the first plan then shows only real differences.
servers: {}
#  gw-1:
#    host: node-a
#    product: wso2am-4.2.0
#    home: wso2am-4.2.0              # relative to the host's root
#    update_level: 14
#    patches: [WSO2-CARBON-PATCH-4.9.0-0005]
#    config:
#      repository/conf/deployment.toml: {template: templates/deployment.toml.j2}
#    service:
#      start: bin/api-manager.sh start
#      stop: bin/api-manager.sh stop
#      health: {http: "https://127.0.0.1:9443/services/Version", timeout: 120s}
#    rollout: {group: gateways, max_unavailable: 1}
"""

DATA = MODELINE + """\
# Databases, backup repositories, backup policies and restore drills.
databases: {}
#  apim_db: {engine: postgres, host: db.internal, port: 5432, user: apim, dbname: apim_db,
#            password: {env: APIM_DB_PASSWORD}}
repositories: {}
#  primary-vault: {site: primary, type: local, path: /srv/backups}
backups: {}
#  apim-db:
#    source: {database: apim_db}
#    every: 24h
#    keep: {daily: 7, weekly: 4, monthly: 12}
#    repository: primary-vault
drills: {}
"""

GITIGNORE = """\
# drydock's local files: the state and its history when the backend is local (use S3 to
# share it), the crash journal, plan files, and this machine's own overrides.
.drydock/
*.local.yaml
plan.json
"""

README = """\
# {name}

The desired state of the `{name}` environment, managed with
[drydock](https://pypi.org/project/drydock-estate/): every `*.yaml` file here is merged
into one spec.

## Every day

```sh
drydock validate .               # every problem as FILE:LINE:COL: message
drydock plan .                   # what would change, and why
drydock plan . -o plan.json      # save it for review ...
drydock apply plan.json --env .  # ... and apply exactly that (refused when stale)
drydock drift .                  # exit 2 when the world moved away from the state
drydock fmt .                    # canonical YAML, comments kept (--check in CI)
```

## Adopting what already runs

Declare a server or database as it is today, then record it without changing anything:

```sh
drydock import server.gw-1 database.apim_db --env .
drydock plan .                   # now shows only real differences
```

## Editors

Each spec file starts with a `yaml-language-server` modeline naming `{schema}`, so VS Code
(with the YAML extension), Neovim and others complete keys and flag mistakes as you type.
Refresh it after upgrading drydock: `drydock schema > {schema}`.

## Layout

| file | holds |
|---|---|
| `environment.yaml` | name, state backend, sites, hosts, products |
| `servers.yaml` | product installations |
| `data.yaml` | databases, backup repositories, backup policies, drills |
| `templates/` | Jinja2 templates of managed configuration files |
"""

FILES = {"environment.yaml": ENVIRONMENT, "servers.yaml": SERVERS, "data.yaml": DATA,
         ".gitignore": GITIGNORE, "README.md": README}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def skeleton(name: str) -> dict[str, str]:
    """The files of a new environment called `name`: relative path -> text."""
    return {path: text.replace("{name}", name).replace("{schema}", SCHEMA_FILE)
            for path, text in FILES.items()}


def init(
    directory: Annotated[Path, typer.Argument(help="The new environment folder.")],
    name: Annotated[str | None, typer.Option(
        "--name", help="The environment's name (default: the folder's name).")] = None,
) -> None:
    """Start an environment: a skeleton spec, its schema for editors, .gitignore, README.

    Examples:
      drydock init specs/prod
      drydock init specs/prod-eu --name prod
    """
    from engine.render.schemas import spec_schema

    env_name = name or directory.resolve().name
    if not _NAME.fullmatch(env_name):
        fail(f"environment name {env_name!r} must start with a letter or digit and use only "
             "letters, digits, '.', '_' and '-'; pass --name")
    if directory.exists() and not directory.is_dir():
        fail(f"{directory} exists and is not a folder")
    files = {**skeleton(env_name),
             SCHEMA_FILE: json.dumps(spec_schema(), indent=2) + "\n"}
    taken = sorted(p for p in [*files, "templates"] if (directory / p).exists())
    spec_files = sorted(directory.glob("*.y*ml")) if directory.is_dir() else []
    if taken or spec_files:
        shown = ", ".join(taken or [p.name for p in spec_files])
        fail(f"{directory} already holds {shown}; init writes only into a new or empty "
             "folder (nothing was changed)")
    try:
        (directory / "templates").mkdir(parents=True)
        for path, text in files.items():
            (directory / path).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {directory}: {exc.strerror or exc}")
    err.print(f"environment {env_name!r} started in {directory}: "
              f"{', '.join(sorted(files))}, templates/")
    err.print(f"next: declare hosts and servers, then 'drydock validate {directory}' and "
              f"'drydock plan {directory}'")
