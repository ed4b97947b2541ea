"""The app stream inside the Hootsuite dashboard (seed 003): single sign-on, the stream's own
session (no third-party cookies), and the compact page with its JSON calls."""
