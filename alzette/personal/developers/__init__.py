"""The developer portal: partners register their organisation and applications, get
credentials, see their usage; owners share their data and see who read it.

The pages live on the personal side because they know the signed-in person; what
they manage (organisations' applications, keys, grants) lives in the territory
repository (``alzette.territory.partners``), reached through its services.
"""
