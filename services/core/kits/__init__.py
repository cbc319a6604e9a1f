"""Kits that several services share: chat notifiers, two-way trackers, issue tracking,
commit hooks and outgoing webhooks. Built on the framework in ``services.core``."""
