"""Qosym's web portal: server-rendered pages (FastAPI, Jinja2, htmx) over the services' public APIs.

It holds no business rules and no database: every figure it shows comes from an API, called with the signed-in
person's own token (see README.md for where routes, templates, translations and the API client go).
"""
