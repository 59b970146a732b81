"""Internal events for the rest of the platform (the NGSI-LD context layer).

``instance_created`` is sent after the transaction that created a
contentInstance has committed, once per instance, with ``instance`` (the
``Resource`` row) and ``container_path``. Receivers run in the request's
process: keep them short, or queue work. A failing receiver is logged and never
fails the device's request.
"""

from __future__ import annotations

import logging

from django.dispatch import Signal

from alzette.territory.onem2m.models import Resource

logger = logging.getLogger(__name__)

instance_created = Signal()


def content_instance_created(instance: Resource) -> None:
    container_path = instance.path.rsplit("/", 1)[0]
    for receiver, result in instance_created.send_robust(
        sender=Resource, instance=instance, container_path=container_path
    ):
        if isinstance(result, Exception):
            logger.error(
                "receiver %r of instance_created failed on %s: %r", receiver, instance.ri, result
            )
