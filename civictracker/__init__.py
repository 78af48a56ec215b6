"""civictracker: a 311-style issue tracker for cities, fed by social posts.

The app factory is civictracker.app.create_app; only the entry points (wsgi.py, civictracker.cli) import it,
so that `civictracker.geo` and friends load without Flask.
"""
