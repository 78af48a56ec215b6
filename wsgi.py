"""The WSGI entry point (gunicorn wsgi:app); the only module-level app."""

import gc

from civictracker.app import create_app

app = create_app()
# Startup objects (modules, SQLAlchemy metadata, the city pack and gazetteer) live as long as the process:
# keeping them out of the collector's full passes removes 100+ ms pauses from large Open311 answers.
gc.collect()
gc.freeze()
