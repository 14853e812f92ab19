"""The portal's adapters: the HTTP client of the services' APIs and the session cookie."""
