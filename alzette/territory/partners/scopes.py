"""The API scopes a partner application may ask for.

A scope names a family of API calls. Open data needs none; what is not open
needs the scope on the application *and*, for live applications, a grant of
the dataset or of the scope to the application's organisation or one of its
communities (``access.Caller``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

DATASETS_READ = "datasets:read"
CONTEXT_READ = "context:read"
CONTEXT_WRITE = "context:write"

#: scope -> what it lets an application do, shown in the developer portal.
SCOPES = {
    DATASETS_READ: _("Read the datasets shared with your organisation"),
    CONTEXT_READ: _("Read the territory's context (NGSI-LD entities and their history)"),
    CONTEXT_WRITE: _("Create and update NGSI-LD entities"),
}

#: Scopes that can be granted on their own (a dataset grant covers datasets:read).
GRANTABLE = (CONTEXT_READ, CONTEXT_WRITE)
