"""Signals of online procedures, for the apps that react to files (webhooks, statistics).

``dossier_changed`` is sent after the transaction that changed a file commits, with
``dossier`` (the file), ``event`` (the ``DossierEvent`` written) and ``kind`` (the
ledger kind: ``procedure.submitted``, ``procedure.status_changed``, ``procedure.decided``).
"""

from django.dispatch import Signal

dossier_changed = Signal()
