"""Service modules for aha-services; the framework lives in ``services.core``."""
