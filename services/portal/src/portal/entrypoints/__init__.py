"""The portal's pages: one ``<area>_routes.py`` per role (auth, parent, provider, admin), rendered by ``pages``."""
