"""Settings for the test suite: the real settings, read from the environment, plus
what only tests need. ``DATABASE_URL``/``REDIS_URL`` still choose the services, so
the same suite runs on SQLite locally and on PostgreSQL and Redis in CI.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("TRACKER_ALLOW_PRIVATE_ADDRESSES", "1")  # feeds are served on 127.0.0.1

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TRACKER_MIN_INTERVAL = 60
TRACKER_TOTAL_TIMEOUT = 10.0
TRACKER_READ_TIMEOUT = 3.0
TRACKER_CONNECT_TIMEOUT = 3.0
TRACKER_LEASE_SECONDS = 600
TRACKER_SERVE_DEMO_FEEDS = True
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
SECURE_SSL_REDIRECT = False  # the test client and the live server speak plain HTTP
