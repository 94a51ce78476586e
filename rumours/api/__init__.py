"""The investor REST API under /api/v1/ (Django REST framework).

Read-only for keys; writes stay in the admin. Authentication by API key
(:mod:`rumours.api.auth`), errors in one JSON shape (:mod:`rumours.api.errors`),
point-in-time answers with ``as_of`` (:mod:`rumours.api.views`).
"""
