"""Development identity providers: FranceConnect v2 and ProConnect simulators.

The real providers are unreachable from development machines and CI, so these
simulators speak the same OpenID Connect protocol with the same claim formats.
They are mounted only in the demo and development modes, never in production.
"""
