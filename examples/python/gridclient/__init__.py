"""A small typed client for gridd's grid.v1 API over grpcio.

The generated stubs (package ``grid.v1``) are made at build time from
``proto/`` and live in the build tree (``build/examples/python``); put that
directory on ``sys.path`` (``PYTHONPATH``) beside this package.
"""

from gridclient.client import GridClient, GridError, Watch

__all__ = ["GridClient", "GridError", "Watch"]
