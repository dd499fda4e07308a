"""The predictor service: a Litestar app scoring requests with a bundled, versioned model.

Entry points: ``python -m api`` serves (see ``api.server``); ``api.app.create_app`` builds the ASGI app.
Kept import-free so that light commands (the container HEALTHCHECK) don't pay for the web stack.
"""
