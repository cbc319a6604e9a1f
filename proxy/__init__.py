"""The development proxy that Aha!'s "Development Proxy" integration drives."""
