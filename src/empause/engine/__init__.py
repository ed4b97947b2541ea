"""Pause, enforce and resume: plan -> journal -> execute; resumable and idempotent."""
