"""FIWARE Smart Data Models: the schemas of the platform's entity types, shipped
with the package (``data/``, CC BY 4.0, see data/NOTICE.txt), and validation of
NGSI-LD entities against them without ever reaching the network."""
