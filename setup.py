"""Build-time mapping of the demo environment into the wheel (everything else is in
pyproject.toml).

The checkout keeps the demo where every environment lives, `specs/demo/`; installed, it is
the package data `drydock/demo/` (spec files and templates, never a built world or a
machine's `*.local.yaml`), so `drydock demo` works from a wheel outside the checkout.
"""

from setuptools import find_packages, setup

CODE = ["drydock", "engine*", "providers*", "state*", "testkit*", "safefs*"]

setup(
    packages=[*find_packages(include=CODE), "drydock.demo"],
    package_dir={"drydock.demo": "specs/demo"},
    package_data={"drydock.demo": ["*.yaml", "*.yml", "*.md", "templates/*", "templates/**/*"]},
    exclude_package_data={"drydock.demo": ["*.local.yaml", ".drydock/*"]},
)
