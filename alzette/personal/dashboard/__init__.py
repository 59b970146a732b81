"""The citizen's configurable dashboard: widgets from a registry, arranged by each person."""
