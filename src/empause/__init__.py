"""Emergency Pause: stop every scheduled social-media post during a crisis, safely."""

__version__ = "0.1.0"
