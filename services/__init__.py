"""Bloomwell services: auth, API gateway, inference worker and the shared ``common`` package."""
