"""Models of this bounded context (filled by its issue)."""
