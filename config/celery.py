"""The Celery application. Tasks are discovered in each installed app's ``tasks.py``."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if str(app.conf.broker_url or "").startswith("filesystem://"):
    # kombu's filesystem transport (the embedded default) expects its folders to exist.
    for option in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = (app.conf.broker_transport_options or {}).get(option)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
