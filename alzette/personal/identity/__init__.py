"""Identity federation: FranceConnect (citizens) and ProConnect (agents) relying parties."""
