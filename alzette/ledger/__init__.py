"""The tamper-evident ledger: an RFC 9162 Merkle transparency log of platform transactions.

It stores no personal data: actors are pseudonyms, objects are opaque references
and payloads are salted commitments whose salts stay in the owning repository.
"""
