"""The files of a fresh product home (carbon layout) and the fake jars inside it."""

from __future__ import annotations

import hashlib
import inspect
import json
import sqlite3

from pydantic import BaseModel, ConfigDict

from testkit import fake_server
from testkit.builder_script import CONTROL_SCRIPT
from testkit.builder_zip import Entry, zip_bytes

KERNEL = "4.9.0"
PLUGINS = (
    f"org.wso2.carbon.core_{KERNEL}.jar",
    f"org.wso2.carbon.registry.core_{KERNEL}.jar",
    f"org.wso2.carbon.user.core_{KERNEL}.jar",
    "org.wso2.carbon.apimgt.gateway_9.28.116.jar",
    "org.wso2.carbon.apimgt.impl_9.28.116.jar",
    "org.wso2.carbon.identity.oauth_6.11.148.jar",
    f"org.wso2.carbon.tomcat_{KERNEL}.jar",
    f"org.wso2.carbon.logging_{KERNEL}.jar",
    "synapse-core_2.1.7.wso2v271.jar",
    "org.wso2.carbon.apimgt.keymgt_9.28.116.jar",
)
UPDATE_TARGETS = PLUGINS[:6]
"""Plugin jars that update levels modify (patches never touch them by default)."""
PATCH_TARGETS = PLUGINS[6:]
"""Plugin jars that patch archives replace."""
LEGACY_LIB = "repository/components/lib/commons-legacy_1.0.0.jar"
VELOCITY = "repository/resources/api_templates/velocity_template.xml"
EMPTY_DIRS = (
    "repository/components/patches", "repository/components/dropins",
    "repository/deployment/server/webapps", "repository/tenants", "repository/logs",
)


KERNELS = {("wso2am", "4.2.0"): "4.9.0", ("wso2am", "4.1.0"): "4.8.1",
           ("wso2am", "3.2.0"): "4.6.0", ("wso2am", "2.1.0"): "4.4.0",
           ("wso2is", "6.1.0"): "4.9.0", ("wso2is", "5.11.0"): "4.6.1",
           ("wso2mi", "4.2.0"): "4.9.0"}
"""The Carbon kernel each product release runs on (never the product's own version)."""


class ProductInfo(BaseModel):
    """How a product presents itself: display name, control script and Carbon kernel."""

    model_config = ConfigDict(frozen=True)

    product: str
    version: str
    display: str
    script: str
    kernel: str = KERNEL

    @property
    def full(self) -> str:
        """``wso2am-4.2.0``: the pack, top folder and product.txt name."""
        return f"{self.product}-{self.version}"


_KNOWN = {
    "wso2am": ("WSO2 API Manager", "api-manager.sh"),
    "wso2is": ("WSO2 Identity Server", "wso2server.sh"),
    "wso2mi": ("WSO2 Micro Integrator", "micro-integrator.sh"),
}


def product_info(product: str, version: str, kernel: str | None = None) -> ProductInfo:
    """Return the display name, script and kernel of `product` (unknown ones get
    wso2server.sh and kernel 4.9.0 unless `kernel` says otherwise).

    Raises ValueError when product, version or kernel are not simple names.
    """
    kernel = kernel or KERNELS.get((product, version), KERNEL)
    for value, what, extra in ((product, "product", "._-"), (version, "version", "._"),
                               (kernel, "kernel", "._")):
        if not value or not all(c.isalnum() or c in extra for c in value):
            raise ValueError(f"{what} {value!r} must be letters, digits or {extra!r}; "
                             "pass a plain name such as wso2am / 4.2.0")
    display, script = _KNOWN.get(product, (f"WSO2 {product}", "wso2server.sh"))
    return ProductInfo(product=product, version=version, display=display, script=script,
                       kernel=kernel)


def fake_bytes(seed: str, size: int, *, magic: bytes = b"") -> bytes:
    """Deterministic pseudo-random bytes of `size` derived from `seed`."""
    out = bytearray(magic)
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def fake_jar(name: str, marker: str) -> bytes:
    """A real (tiny) jar: a zip with a MANIFEST and a build-info file holding `marker`."""
    symbolic = name.rsplit("_", 1)[0].removesuffix(".jar")
    bundle_version = name.rsplit("_", 1)[-1].removesuffix(".jar") if "_" in name else "1.0.0"
    manifest = (f"Manifest-Version: 1.0\r\nBundle-ManifestVersion: 2\r\n"
                f"Bundle-SymbolicName: {symbolic}\r\nBundle-Version: {bundle_version}\r\n"
                f"Created-By: drydock fixture builder\r\n\r\n")
    package = symbolic.replace(".", "/").replace("-", "_")
    return zip_bytes([
        Entry(path="META-INF/MANIFEST.MF", data=manifest.encode()),
        Entry(path=f"{package}/BUILD-INFO.txt", data=f"{name}\n{marker}\n".encode()),
        Entry(path=f"{package}/Activator.class", data=fake_bytes(f"{name}:{marker}", 700,
                                                                 magic=b"\xca\xfe\xba\xbe")),
    ])


def carbon_db() -> bytes:
    """A small real SQLite database shaped like WSO2CARBON_DB (users, roles, registry)."""
    con = sqlite3.connect(":memory:")
    try:
        con.executescript("""
            CREATE TABLE UM_USER (UM_ID INTEGER PRIMARY KEY, UM_USER_NAME TEXT NOT NULL,
                UM_USER_PASSWORD TEXT NOT NULL, UM_TENANT_ID INTEGER DEFAULT -1234);
            CREATE TABLE UM_ROLE (UM_ID INTEGER PRIMARY KEY, UM_ROLE_NAME TEXT NOT NULL,
                UM_TENANT_ID INTEGER DEFAULT -1234);
            CREATE TABLE UM_USER_ROLE (UM_USER_ID INTEGER, UM_ROLE_ID INTEGER);
            CREATE TABLE REG_RESOURCE (REG_PATH_ID INTEGER, REG_NAME TEXT,
                REG_MEDIA_TYPE TEXT, REG_CREATOR TEXT, REG_VERSION INTEGER);
            INSERT INTO UM_USER VALUES (1, 'admin', 'fixture-hash', -1234);
            INSERT INTO UM_ROLE VALUES (1, 'admin', -1234), (2, 'Internal/everyone', -1234);
            INSERT INTO UM_USER_ROLE VALUES (1, 1), (1, 2);
            INSERT INTO REG_RESOURCE VALUES (1, 'governance', 'collection', 'system', 1);
        """)
        con.commit()
        return con.serialize()
    finally:
        con.close()


def deployment_toml(info: ProductInfo) -> str:
    """A deployment.toml with ``[server] offset = 0`` and a few realistic sections."""
    return f"""[server]
hostname = "localhost"
offset = 0
base_path = "${{carbon.protocol}}://${{carbon.host}}:${{carbon.management.port}}"
server_role = "default"

[super_admin]
username = "admin"
password = "admin"
create_admin_account = true

[user_store]
type = "database_unique_id"

[database.apim_db]
type = "h2"
url = "jdbc:h2:./repository/database/WSO2AM_DB;AUTO_SERVER=TRUE;DB_CLOSE_ON_EXIT=FALSE"
username = "wso2carbon"
password = "wso2carbon"

[database.shared_db]
type = "h2"
url = "jdbc:h2:./repository/database/WSO2SHARED_DB;DB_CLOSE_ON_EXIT=FALSE"
username = "wso2carbon"
password = "wso2carbon"

[keystore.tls]
file_name = "wso2carbon.jks"
type = "JKS"
password = "wso2carbon"
alias = "wso2carbon"
key_password = "wso2carbon"

[apim.analytics]
enable = false
# {info.full}
"""


def velocity_template(marker: str) -> bytes:
    """The API gateway template file that some update levels modify."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<!-- {marker} -->\n'
            '<api xmlns="http://ws.apache.org/ns/synapse" name="$!apiName" '
            'context="$!apiContext">\n</api>\n').encode()


def base_files(info: ProductInfo, level: int = -1) -> dict[str, Entry]:
    """Every file of a fresh home of `info`, keyed by path relative to the home."""
    entries = [
        Entry(path=f"bin/{info.script}", data=CONTROL_SCRIPT.encode(), executable=True),
        Entry(path="bin/carbon_server.py", data=inspect.getsource(fake_server).encode()),
        Entry(path="bin/version.txt", data=f"{info.display} v{info.version}\n".encode()),
        Entry(path="bin/wso2carbon-version.txt",
              data=f"WSO2 Carbon Framework v{info.kernel}\n".encode()),
        Entry(path="LICENSE.txt", data=b"Apache License, Version 2.0 (fixture copy)\n"),
        Entry(path="repository/conf/deployment.toml", data=deployment_toml(info).encode()),
        Entry(path="repository/conf/log4j2.properties",
              data=b"rootLogger.level = INFO\nappender.CARBON_LOGFILE.type = RollingFile\n"),
        Entry(path=LEGACY_LIB, data=fake_jar("commons-legacy_1.0.0.jar", "base")),
        Entry(path="repository/components/lib/h2_2.1.210.wso2v1.jar",
              data=fake_jar("h2_2.1.210.wso2v1.jar", "base")),
        Entry(path="repository/deployment/server/synapse-configs/default/api/_TokenAPI_.xml",
              data=b'<api xmlns="http://ws.apache.org/ns/synapse" name="_WSO2AMTokenAPI_" '
                   b'context="/token"/>\n'),
        Entry(path="repository/resources/security/wso2carbon.jks",
              data=fake_bytes(f"{info.full}:keystore", 2048, magic=b"\xfe\xed\xfe\xed")),
        Entry(path="repository/resources/security/client-truststore.jks",
              data=fake_bytes(f"{info.full}:truststore", 4096, magic=b"\xfe\xed\xfe\xed")),
        Entry(path=VELOCITY, data=velocity_template("base")),
        Entry(path="repository/database/WSO2CARBON_DB.db", data=carbon_db()),
        Entry(path="updates/product.txt", data=info.full.encode()),
        Entry(path="updates/config.json", data=config_json(level, info)),
    ]
    entries += [Entry(path=f"repository/components/plugins/{name}",
                      data=fake_jar(name, "base")) for name in PLUGINS]
    return {e.path: e for e in entries}


def config_json(level: int, info: ProductInfo | None = None) -> bytes:
    """The bytes of ``updates/config.json`` for an update level (-1: never updated), as the
    update client writes it: the level as a string, beside the client's own keys."""
    doc = {"update-level": str(level), "channel": "full",
           "product": info.full if info else "", "update-tool-version": "1.4.2"}
    return (json.dumps(doc, indent=2) + "\n").encode()


CLIENT_KEYS = {"username": "ops@example.com",
               "service": {"access-token": "u2-access-5f1c0a9e-token-never-shown",
                           "refresh-token": "u2-refresh-9d2b7e11-token-never-shown"}}
"""What the update client adds to ``updates/config.json`` once someone signs in."""


def sign_in_update_client(home: object) -> None:
    """Make the home's ``updates/config.json`` look like the update client's after a
    sign-in: the account and service tokens beside the level (keys kept, order kept).
    `home` is a local path."""
    from pathlib import Path

    path = Path(str(home)) / "updates" / "config.json"
    doc = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    doc.update(CLIENT_KEYS)
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
