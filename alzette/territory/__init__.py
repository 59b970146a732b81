"""The territory repository: data about the territory. It never imports the personal side."""
