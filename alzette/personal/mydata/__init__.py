""" "My data": everything the platform holds about me, exported, erased, and who saw it."""
