"""Offline geocoding of informal text against a city's own streets (pure Python, no web/db imports)."""
