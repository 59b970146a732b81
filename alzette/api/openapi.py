"""OpenAPI description adjustments: errors are documented as problem+json."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

from alzette.api.schemas import Problem
from alzette.core.problems import PROBLEM_CONTENT_TYPE

_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

#: Errors any operation may answer, and those of operations that take a body.
_ALWAYS = {500: "Unexpected error (logged with the request id)."}
_WITH_BODY = {
    400: "Malformed body (for example invalid JSON).",
    413: "Body larger than the configured limit.",
    415: "Body not sent as application/json.",
    422: "Body or parameters do not match the schema.",
}


def _security_schemes() -> dict[str, Any]:
    """Partner applications' credentials (docs/partners.md): an API key or an OAuth2 token."""
    from alzette.territory.partners.scopes import SCOPES

    return {
        "partnerKey": {
            "type": "http", "scheme": "bearer",
            "description": "A partner application's API key (alzp_…), from the developer portal.",
        },
        "partnerOAuth2": {
            "type": "oauth2",
            "description": "A one-hour token (alzt_…) for the application's client credentials.",
            "flows": {"clientCredentials": {
                "tokenUrl": "/partners/oauth/token",
                "scopes": {name: str(text) for name, text in SCOPES.items()},
            }},
        },
    }  # fmt: skip


#: For operations open to anyone that show more to a partner application.
PARTNER_OPTIONAL = {"security": [{}, {"partnerKey": []}, {"partnerOAuth2": ["datasets:read"]}]}
#: For operations that need a partner application.
PARTNER_REQUIRED = {"security": [{"partnerKey": []}, {"partnerOAuth2": []}]}


class AlzetteAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI description documents every error as problem+json."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
            Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        schema["components"].setdefault("securitySchemes", {}).update(_security_schemes())
        defs = schema["components"]["schemas"]["Problem"].pop("$defs", {})
        schema["components"]["schemas"].update(defs)
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                if method in _METHODS:
                    _document_errors(operation)
        return schema


def _document_errors(operation: dict[str, Any]) -> None:
    # ninja keys responses by int, JSON by str: normalise before merging.
    responses = {str(status): value for status, value in operation.get("responses", {}).items()}
    operation["responses"] = responses
    extra = dict(_ALWAYS)
    if "requestBody" in operation:
        extra.update(_WITH_BODY)
    for status, description in extra.items():
        responses.setdefault(str(status), {"description": description})
    for status, response in responses.items():
        if int(status) >= 400:
            response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": _PROBLEM_REF}}
