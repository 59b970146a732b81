"""The open-data catalogue: datasets of the territory and their distributions.

Datasets describe what is published (titles in several languages, themes,
licence, publisher, communes, period, frequency, access level); their rows come
from live sources (``sources.py``: NGSI-LD entity types, the communes, the
bridge's anonymised events and statistics), never from copies typed by hand.
The DCAT-AP catalogue, the CKAN-compatible API and OGC API Features all read
this app (docs/open-data.md).
"""
