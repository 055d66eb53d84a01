"""The HTTP service: `create_app(settings)` in app.api.app, routes in app.api.routes."""
