"""Payment providers: a registry of dotted paths (``ALZETTE_PAYMENT_PROVIDERS``) to
subclasses of ``base.PaymentProvider``. Adding one is copying a sibling module."""
