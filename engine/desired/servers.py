"""Desired attributes of servers: level, patches, rendered config digests (pure)."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from engine.contracts.models import DesiredResource
from engine.contracts.names import patch_dir, split_product
from engine.spec.errors import SpecError, SpecIssue
from engine.spec.loader import LoadedSpec
from engine.spec.models import Server
from engine.spec.secret_tokens import tokenize
from engine.spec.templating import TemplateRenderError, Templates


class DesiredStateError(SpecError):
    """The spec is valid but cannot be turned into desired state (e.g. a template fails);
    each issue is located (the template's line, or the spec line of an inline content)."""


def sha256_text(text: str) -> str:
    """`sha256:<hex>` of UTF-8 text, the digest format used for managed files."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def server_home(spec: LoadedSpec, server: Server) -> PurePath:
    """Absolute home of a server: its host's root (spec-relative) joined with `home`."""
    host = spec.env.hosts[server.host]
    return PurePath(spec.path(host.root)) / server.home


class TemplateCache:
    """Compiled config templates by whitespace style and source text, once per plan; also
    what every server of the plan shares (the tokenized environment vars, host roots)."""

    def __init__(self) -> None:
        self._styles: dict[str, Templates] = {}
        self._spec: LoadedSpec | None = None
        self._env_vars: object = None
        self._roots: dict[str, PurePath] = {}
        self._shown: dict[str, str] = {}

    def _of(self, spec: LoadedSpec) -> None:
        if spec is not self._spec:
            self._spec, self._env_vars = spec, tokenize(spec.env.vars)
            self._roots.clear()
            self._shown.clear()

    def env_vars(self, spec: LoadedSpec) -> dict[str, object]:
        """`tokenize(spec.env.vars)`, once per spec."""
        self._of(spec)
        return self._env_vars  # type: ignore[return-value]

    def root(self, spec: LoadedSpec, host: str) -> PurePath:
        """The host's root as `server_home` resolves it, once per host."""
        self._of(spec)
        found = self._roots.get(host)
        if found is None:
            found = self._roots[host] = PurePath(spec.path(spec.env.hosts[host].root))
        return found

    def shown(self, spec: LoadedSpec, template: str) -> str:
        """`spec.shown(template)`, once per template."""
        self._of(spec)
        found = self._shown.get(template)
        if found is None:
            found = self._shown[template] = spec.shown(template)
        return found

    def get(self, whitespace: str) -> Templates:
        """The templates of one whitespace style (`jinja` or `ansible`)."""
        found = self._styles.get(whitespace)
        if found is None:
            found = self._styles[whitespace] = Templates(whitespace)
        return found


def render_config(spec: LoadedSpec, name: str, server: Server,
                  cache: TemplateCache | None = None) -> dict[str, str]:
    """Render each managed file of a server.

    Raises DesiredStateError located at the failing template line (`templates/x.j2:12:1`)
    or, for inline content, at the spec line that holds it.
    """
    templates = cache or TemplateCache()
    host = spec.env.hosts[server.host]
    product_name, version = split_product(server.product)
    base = {
        **templates.env_vars(spec),
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
        shown = templates.shown(spec, cfg.template) if cfg.template else "(inline)"
        try:
            out[target] = templates.get(cfg.whitespace).render(
                text, {**base, **tokenize(cfg.vars)}, name=shown)
        except TemplateRenderError as exc:
            raise DesiredStateError([_issue(spec, name, target, cfg.template, exc)]) from None
    return out


def _issue(spec: LoadedSpec, name: str, target: str, template: str | None,
           exc: TemplateRenderError) -> SpecIssue:
    what = f"template: {exc} (server {name}, {target})"
    if template is not None and exc.line is not None:
        return SpecIssue(spec.shown(template), exc.line, 1, what)
    key = "template" if template is not None else "content"
    pos = spec.where(("servers", name, "config", target, key))
    return SpecIssue(pos.file, pos.line, pos.col,
                     f"{what}" if template is None else f"{what} in {template}")


def desired_server(spec: LoadedSpec, name: str, server: Server,
                   cache: TemplateCache | None = None) -> DesiredResource:
    """The comparable attributes of one server."""
    cache = cache or TemplateCache()
    files = render_config(spec, name, server, cache)
    attributes: dict[str, object] = {
        "product": server.product,
        "home": str(cache.root(spec, server.host) / server.home),
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
