"""The platform API (/api/v1): assembly of the routers of every bounded context."""
