"""The integration host: the service modules run unattended, fed by Aha! and third-party
webhooks, with every event stored before it is acknowledged and delivered at least once.

``intake`` answers the webhooks, ``worker`` runs the stored jobs; both find the queue and
the state store through ``engine`` and the integrations through ``config``.
"""
