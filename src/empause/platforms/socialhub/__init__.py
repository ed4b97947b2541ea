"""The SocialHub adapter (next platform)."""
