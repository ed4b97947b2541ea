"""The Hootsuite REST adapter."""
