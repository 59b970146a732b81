"""Alzette's oneM2M infrastructure node (IN-CSE), in the territory repository.

Devices and applications speak oneM2M (TS-0001 architecture, TS-0004 protocol,
TS-0009 HTTP binding, TS-0010 MQTT binding). The protocol core
(``cse.handle``) turns a request primitive into a response primitive and knows
nothing of HTTP or MQTT; bindings are a registry of dotted paths
(``ALZETTE_ONEM2M_BINDINGS``). See docs/onem2m.md.
"""
