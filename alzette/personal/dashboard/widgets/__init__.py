"""The widgets the platform ships, one module each (copy a sibling to write a new one)."""
