"""The FastAPI app: sign-in, dashboard, JSON API, webhook receiver."""
