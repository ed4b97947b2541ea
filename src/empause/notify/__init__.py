"""Telling people things: mail (sign-in links) and, in the demo and tests, a local SMTP sink."""
