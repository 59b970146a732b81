"""The anonymisation bridge: the only way personal data reaches the territory repository.

It reads the personal repository and writes anonymised records or aggregates into
the territory repository; nothing else imports both sides for that purpose. See
docs/architecture.md ("The bridge").
"""
