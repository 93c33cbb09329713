"""/graphql: graphene-django's view with JWT sign-in, request limits and opaque errors.

- Bodies are parsed with core.parsers (depth-limited JSON); the query's size is capped while
  parsing and crm.limits.QueryBudget runs with graphql-core's standard validation rules.
- `Authorization: Bearer <access>` signs the request in (simplejwt, as the REST API); a bad
  token is a 401. Sessions are ignored: the view is CSRF-exempt, so a cookie must not be
  enough to run a mutation.
- An error the client caused (GraphQLError, a filter's ValidationError, a connection limit)
  is reported as is; anything else, a database error above all, is logged and answered with
  a generic message, so no SQL or internals leak into the response.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, parse, specified_rules
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from core import parsers
from core.auth import JWTAuthentication

from .limits import MAX_QUERY_LENGTH, MAX_TOKENS, QueryBudget

log = logging.getLogger(__name__)

GENERIC_ERROR = "Internal error while resolving this field."
# Raised for the client: graphene(-django) reports bad arguments and page sizes by assert.
CLIENT_ERRORS = (GraphQLError, DjangoValidationError, AssertionError)


def bad_request(message: str) -> HttpError:
    return HttpError(HttpResponseBadRequest(message), message)


class LabGraphQLView(GraphQLView):
    validation_rules = (*specified_rules, QueryBudget)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            signed_in = JWTAuthentication().authenticate(request)
        except (InvalidToken, TokenError, AuthenticationFailed):
            return JsonResponse({"errors": [{"message": "Invalid or expired token."}]},
                                status=401, headers={"WWW-Authenticate": "Bearer"})
        request.user = signed_in[0] if signed_in else AnonymousUser()
        return super().dispatch(request, *args, **kwargs)

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        if self.get_content_type(request) != "application/json":
            return super().parse_body(request)
        try:
            body = parsers.loads(request.body)
        except ValueError as exc:
            raise bad_request(f"POST body sent invalid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise bad_request("The received data is not a valid JSON query.")
        return body

    @staticmethod
    def get_graphql_params(request: HttpRequest, data: Any):
        def param(name: str) -> Any:
            return request.GET.get(name) or data.get(name)

        query, variables, operation_name = param("query"), param("variables"), \
            param("operationName")
        if isinstance(variables, str):
            try:
                variables = parsers.loads(variables) if variables else None
            except ValueError:
                raise bad_request("Variables are invalid JSON.") from None
        if query is not None and not isinstance(query, str):
            raise bad_request("The query must be a string.")
        if variables is not None and not isinstance(variables, dict):
            raise bad_request("Variables must be a JSON object.")
        if operation_name in ("", "null"):
            operation_name = None
        if operation_name is not None and not isinstance(operation_name, str):
            raise bad_request("operationName must be a string.")
        return query, variables, operation_name, param("id")

    def execute_graphql_request(self, request, data, query, variables, operation_name,
                                show_graphiql=False):
        if query:
            try:  # bounded first; graphene-django then parses the accepted query again
                parse(query, no_location=True, max_source_length=MAX_QUERY_LENGTH,
                      max_lexical_tokens=MAX_TOKENS)
            except GraphQLError as exc:
                return ExecutionResult(errors=[exc])
        return super().execute_graphql_request(request, data, query, variables,
                                               operation_name, show_graphiql)

    @staticmethod
    def format_error(error: Exception) -> dict[str, Any]:
        if isinstance(error, GraphQLError):
            original = error.original_error
            if original is None or isinstance(original, CLIENT_ERRORS):
                return error.formatted
            log.error("GraphQL resolver failed", exc_info=original)
            return GraphQLError(GENERIC_ERROR, error.nodes, path=error.path).formatted
        if isinstance(error, HttpError):
            return {"message": str(error)}
        log.error("GraphQL request failed", exc_info=error)
        return {"message": GENERIC_ERROR}
