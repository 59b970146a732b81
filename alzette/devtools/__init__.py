"""Development tools (lint contracts); never imported by the running platform."""
