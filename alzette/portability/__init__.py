"""Reversibility: move what an organisation owns to another Alzette instance.

``alzette export`` writes an archive of open formats (docs/portability.md);
``alzette import`` verifies it and recreates its content. The package sits
outside both repositories: ``territory`` modules handle the territory part,
``personal`` modules the procedure definitions, ``services`` ties them together.
"""
