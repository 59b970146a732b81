"""oneM2M enumerations (TS-0004 section 6.3) and the HTTP status mapping (TS-0009)."""

from __future__ import annotations

from enum import IntEnum


class ResourceType(IntEnum):
    ACP = 1
    AE = 2
    CNT = 3
    CIN = 4
    CSEBASE = 5
    GRP = 9
    SUB = 23
    FCNT = 28


#: Short root name of each resource type in the JSON serialisation.
TYPE_NAMES: dict[int, str] = {
    ResourceType.ACP: "m2m:acp",
    ResourceType.AE: "m2m:ae",
    ResourceType.CNT: "m2m:cnt",
    ResourceType.CIN: "m2m:cin",
    ResourceType.CSEBASE: "m2m:cb",
    ResourceType.GRP: "m2m:grp",
    ResourceType.SUB: "m2m:sub",
}


class Operation(IntEnum):
    CREATE = 1
    RETRIEVE = 2
    UPDATE = 3
    DELETE = 4
    NOTIFY = 5


class Permission(IntEnum):
    """accessControlOperations bits (acop)."""

    CREATE = 1
    RETRIEVE = 2
    UPDATE = 4
    DELETE = 8
    NOTIFY = 16
    DISCOVER = 32
    ALL = 63


OPERATION_PERMISSION = {
    Operation.CREATE: Permission.CREATE,
    Operation.RETRIEVE: Permission.RETRIEVE,
    Operation.UPDATE: Permission.UPDATE,
    Operation.DELETE: Permission.DELETE,
    Operation.NOTIFY: Permission.NOTIFY,
}


class RSC(IntEnum):
    """responseStatusCode values used by Alzette."""

    OK = 2000
    CREATED = 2001
    DELETED = 2002
    UPDATED = 2004
    BAD_REQUEST = 4000
    RELEASE_VERSION_NOT_SUPPORTED = 4001
    NOT_FOUND = 4004
    OPERATION_NOT_ALLOWED = 4005
    REQUEST_TIMEOUT = 4008
    UNSUPPORTED_MEDIA_TYPE = 4015
    SUBSCRIPTION_CREATOR_HAS_NO_PRIVILEGE = 4101
    CONTENTS_UNACCEPTABLE = 4102
    ORIGINATOR_HAS_NO_PRIVILEGE = 4103
    CONFLICT = 4105
    ORIGINATOR_HAS_NOT_REGISTERED = 4106
    SECURITY_ASSOCIATION_REQUIRED = 4107
    INVALID_CHILD_RESOURCE_TYPE = 4108
    GROUP_MEMBER_TYPE_INCONSISTENT = 4110
    ORIGINATOR_HAS_ALREADY_REGISTERED = 4117
    APP_RULE_VALIDATION_FAILED = 4126
    INTERNAL_SERVER_ERROR = 5000
    NOT_IMPLEMENTED = 5001
    TARGET_NOT_REACHABLE = 5103
    ALREADY_EXISTS = 5106
    TARGET_NOT_SUBSCRIBABLE = 5203
    SUBSCRIPTION_VERIFICATION_INITIATION_FAILED = 5204
    NOT_ACCEPTABLE = 5207
    MAX_NUMBER_OF_MEMBER_EXCEEDED = 6010


HTTP_STATUS: dict[int, int] = {
    RSC.OK: 200,
    RSC.CREATED: 201,
    RSC.DELETED: 200,
    RSC.UPDATED: 200,
    RSC.BAD_REQUEST: 400,
    RSC.CONTENTS_UNACCEPTABLE: 400,
    RSC.GROUP_MEMBER_TYPE_INCONSISTENT: 400,
    RSC.MAX_NUMBER_OF_MEMBER_EXCEEDED: 400,
    RSC.NOT_FOUND: 404,
    RSC.TARGET_NOT_REACHABLE: 404,
    RSC.OPERATION_NOT_ALLOWED: 405,
    RSC.NOT_ACCEPTABLE: 406,
    RSC.CONFLICT: 409,
    RSC.ALREADY_EXISTS: 409,
    RSC.UNSUPPORTED_MEDIA_TYPE: 415,
    RSC.REQUEST_TIMEOUT: 504,
    RSC.INTERNAL_SERVER_ERROR: 500,
    RSC.SUBSCRIPTION_VERIFICATION_INITIATION_FAILED: 500,
    RSC.NOT_IMPLEMENTED: 501,
    RSC.RELEASE_VERSION_NOT_SUPPORTED: 501,
}


def http_status(rsc: int) -> int:
    """The HTTP status of a response status code (TS-0009 table 6.4.1-1)."""
    if rsc in HTTP_STATUS:
        return HTTP_STATUS[rsc]
    return 403 if 4100 <= rsc < 4200 or 5100 <= rsc < 5300 else 500


class ResultContent(IntEnum):
    NOTHING = 0
    ATTRIBUTES = 1
    HIERARCHICAL_ADDRESS = 2
    HIERARCHICAL_ADDRESS_ATTRIBUTES = 3
    ATTRIBUTES_AND_CHILDREN = 4
    ATTRIBUTES_AND_CHILD_REFERENCES = 5
    CHILD_REFERENCES = 6
    ORIGINAL_RESOURCE = 7
    CHILD_RESOURCES = 8
    MODIFIED_ATTRIBUTES = 9
    DISCOVERY_RESULT_REFERENCES = 11


#: Which result contents each operation accepts (TS-0004 table 6.3.4.2.?; as ACME).
RCN_ALLOWED: dict[str, set[int]] = {
    "create": {0, 1, 2, 3, 9},
    "retrieve": {1, 4, 5, 6, 8},
    "discovery": {6, 11},
    "update": {0, 1, 9},
    "delete": {0, 1, 4, 5, 6, 8},
}
RCN_DEFAULT = {"create": 1, "retrieve": 1, "discovery": 11, "update": 1, "delete": 0}


class EventType(IntEnum):
    """notificationEventType (net)."""

    UPDATE = 1
    DELETE = 2
    CREATE_CHILD = 3
    DELETE_CHILD = 4


class ContentType(IntEnum):
    """notificationContentType (nct)."""

    ALL_ATTRIBUTES = 1
    MODIFIED_ATTRIBUTES = 2
    RESOURCE_ID = 3


#: Resource types each type accepts as children (TS-0001 section 9.6).
CHILD_TYPES: dict[int, set[int]] = {
    ResourceType.CSEBASE: {1, 2, 3, 9, 23, 28},
    ResourceType.AE: {1, 3, 9, 23, 28},
    ResourceType.CNT: {3, 4, 23},
    ResourceType.FCNT: {3, 23, 28},
    ResourceType.ACP: {23},
    ResourceType.GRP: {23},
    ResourceType.CIN: set(),
    ResourceType.SUB: set(),
}

#: The release versions this CSE speaks (srv of the CSEBase).
RELEASES = ("2a", "3", "4", "5")
