"""The personal repository: everything about natural persons. It never leaves the platform."""
