"""Download helper for the views of other apps: they check permissions, this streams."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest

from alzette.personal.files.models import StoredFile
from alzette.personal.files.services import file_response_headers, open_stored


def serve(request: HttpRequest, stored: StoredFile) -> FileResponse:
    """Stream ``stored`` as a download, with the headers of ``file_response_headers``.

    Call it only after your own permission check: it checks nothing itself.
    """
    response = FileResponse(open_stored(stored), content_type=stored.content_type)
    for header, value in file_response_headers(stored).items():
        response[header] = value
    return response
