"""The WSGI entry point (gunicorn wsgi:app); the only module-level app."""

import gc
import os

# Start-up makes hundreds of thousands of objects that all live as long as the process: the collector's
# passes over them while they are made cost ~0.4 s of the ~2 s this module takes to import here. They are
# frozen at the end; collection resumes then (also when start-up fails).
gc.disable()
try:
    from civictracker.cli.startup import app_or_exit
    from civictracker.runtime import runtime_of

    app = (
        app_or_exit()
    )  # bad configuration: one line naming the fix, exit 3 (the traceback with FLASK_DEBUG=1)
    # The offline geocoder behind the public search and Open311 addresses, loaded before the first request:
    # read from the instance cache it takes ~0.2 s here, else the first resident's search waits 2-5 s for it.
    runtime_of(app).gazetteer()
    # Startup objects (modules, SQLAlchemy metadata, the city pack and gazetteer) live as long as the
    # process: keeping them out of the collector's full passes removes 100+ ms pauses from large Open311
    # answers. The full pass before freezing only frees start-up garbage (a few MB); commands run by the
    # flask CLI skip it (~0.15 s of a cold `triage --jsonl` here): they are short, or (demo, worker) can
    # keep that garbage.
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        gc.collect()
    gc.freeze()
finally:
    gc.enable()
