"""``payment_status_changed``: sent once per real status change of a payment.

Arguments: ``sender`` (the ``Payment`` class), ``payment`` and ``previous_status``.
Sent once the change's transaction block has ended (committed, unless the caller
had opened an outer transaction), never for a repeated notification. Sent with
``send_robust``: a listener that raises is logged and does not undo the payment,
so listeners should be able to catch up from ``Payment.status``. The procedures
app listens to it to move a file forward once it is paid.
"""

from __future__ import annotations

from django.dispatch import Signal

payment_status_changed = Signal()
