"""Desired attributes of servers: level, patches, rendered config digests (pure)."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from jinja2 import Template

from engine.contracts.models import DesiredResource
from engine.contracts.names import patch_dir, split_product
from engine.spec.loader import LoadedSpec
from engine.spec.models import Server
from engine.spec.secret_tokens import tokenize
from engine.spec.templating import TemplateRenderError, make_environment


class DesiredStateError(ValueError):
    """The spec is valid but cannot be turned into desired state (e.g. a template fails)."""


def sha256_text(text: str) -> str:
    """`sha256:<hex>` of UTF-8 text, the digest format used for managed files."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def server_home(spec: LoadedSpec, server: Server) -> PurePath:
    """Absolute home of a server: its host's root (spec-relative) joined with `home`."""
    host = spec.env.hosts[server.host]
    return PurePath(spec.path(host.root)) / server.home


class TemplateCache:
    """Compiled config templates by source text: each template compiles once per plan."""

    def __init__(self) -> None:
        self._env = make_environment()
        self._compiled: dict[str, Template] = {}

    def get(self, text: str) -> Template:
        """The compiled template for `text`."""
        found = self._compiled.get(text)
        if found is None:
            found = self._compiled[text] = self._env.from_string(text)
        return found


def render_config(spec: LoadedSpec, name: str, server: Server,
                  cache: TemplateCache | None = None) -> dict[str, str]:
    """Render each managed file of a server; raise DesiredStateError naming the file."""
    templates = cache or TemplateCache()
    host = spec.env.hosts[server.host]
    product_name, version = split_product(server.product)
    base = {
        **tokenize(spec.env.vars),
        "server": name,
        "host": server.host,
        "site": host.site,
        "product": server.product,
        "product_name": product_name,
        "product_version": version,
    }
    out: dict[str, str] = {}
    for target, cfg in server.config.items():
        text = spec.templates.get(cfg.template, "") if cfg.template else (cfg.content or "")
        try:
            out[target] = templates.get(text).render({**base, **tokenize(cfg.vars)})
        except Exception as exc:  # jinja raises many types; all mean "cannot render"
            raise DesiredStateError(
                f"servers.{name}.config.{target}: template {cfg.template or '(inline)'} "
                f"failed: {str(exc).splitlines()[0]}"
            ) from exc
    return out


def desired_server(spec: LoadedSpec, name: str, server: Server,
                   cache: TemplateCache | None = None) -> DesiredResource:
    """The comparable attributes of one server."""
    files = render_config(spec, name, server, cache)
    attributes: dict[str, object] = {
        "product": server.product,
        "home": str(server_home(spec, server)),
        "patches": sorted(patch_dir(p) for p in server.patches),
    }
    if server.update_level is not None:
        attributes["update_level"] = server.update_level
    for target, text in sorted(files.items()):
        attributes[f"config:{target}"] = sha256_text(text)
    return DesiredResource(
        address=f"server.{name}", kind="server", name=name, attributes=attributes, files=files
    )


__all__ = ["DesiredStateError", "TemplateRenderError", "desired_server", "render_config"]
