"""Settings for `make bench`: the project's own settings plus the reference endpoint's URL.

Everything else (middleware, authentication, database, cache) is exactly the served
configuration, so the reference measures the same stack minus the endpoint's own work.
"""

import os

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# `bench/marketplace.py --no-catalogue-cache` measures search and browse without the catalogue's cache.
MARKETPLACE_CATALOGUE_CACHE_SECONDS = int(os.environ.get("BENCH_CATALOGUE_CACHE_SECONDS", "60"))
