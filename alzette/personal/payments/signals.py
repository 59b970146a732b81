"""``payment_status_changed``: sent once per real status change of a payment.

Arguments: ``sender`` (the ``Payment`` class), ``payment`` and ``previous_status``.
Sent after the change is committed, never for a repeated notification. The
procedures app listens to it to move a file forward once it is paid.
"""

from __future__ import annotations

from django.dispatch import Signal

payment_status_changed = Signal()
