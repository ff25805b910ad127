"""Settings for the HTTP bench's gunicorn only (``manage.py bench --http``).

The project's settings plus one URLconf that adds the bare-Django baseline view
(``careplan/bench_urls.py``). Production never loads this module: it refuses to.
"""

from django.core.exceptions import ImproperlyConfigured

from .settings import *  # noqa: F403
from .settings import PRODUCTION

if PRODUCTION:
    raise ImproperlyConfigured("careplan.bench_settings is for the benchmark, not production")

ROOT_URLCONF = "careplan.bench_urls"
