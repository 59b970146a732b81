"""Territory documents: files with metadata, linked to entities, searchable in full text."""
