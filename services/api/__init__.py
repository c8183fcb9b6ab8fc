"""The public API gateway: ``/v1`` analyses, push updates, the ``/auth`` proxy and the web app."""
