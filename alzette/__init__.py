"""Alzette, the open-source smart-territory platform."""

__version__ = "0.1.0"
