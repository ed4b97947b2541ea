"""The platform port and one adapter per platform. The engine imports only `port`."""
