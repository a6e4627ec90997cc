"""drydock: plan and apply WSO2-style middleware estates."""

__version__ = "0.1.0"
