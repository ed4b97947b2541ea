"""Prescreening: the Hootsuite webhook inbox and the decisions made on what arrives.

While an organization is paused only emergency-team members publish: messages pending
approval from anyone else are held (or rejected), and approved or scheduled messages that
would publish inside the pause window are handed to the engine at once.
"""
