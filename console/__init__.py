"""The local web console: services, live events, replays. Served on loopback only."""
