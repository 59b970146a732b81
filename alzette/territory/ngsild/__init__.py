"""NGSI-LD context broker (ETSI GS CIM 009 V1.8.1) on FIWARE Smart Data Models."""
