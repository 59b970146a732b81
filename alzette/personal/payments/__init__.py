"""Payments of online procedures: one interface, pluggable providers (docs/payments.md)."""
