"""Settings for `make bench`: the project's own settings plus the reference endpoint's URL.

Everything else (middleware, authentication, database, cache) is exactly the served
configuration, so the reference measures the same stack minus the endpoint's own work.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
