"""Household water."""

from __future__ import annotations
