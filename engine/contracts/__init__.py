"""The contracts both the engine and the providers import: resource, action and outcome
models, typed facts, query ports and the Provider/Registry interface."""
