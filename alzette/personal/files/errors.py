"""The refusal of an upload, shared by the checks of ``services`` and ``metadata``."""

from django.core.exceptions import ValidationError


class FileRejected(ValidationError):
    """An upload refused; the message is meant for the person who sent the file."""
