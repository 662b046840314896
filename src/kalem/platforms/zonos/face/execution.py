"""One GraphQL request against the Zonos schema: the document parsed and validated once per distinct
text (Zonos' documented `orderItemUpdate` is one text with new variables every call), then executed by
graphql-core over Strawberry's schema — the resolvers and types are Strawberry's; the per-request
machinery around them (extension hooks, execution-context objects) is skipped because none is used.
A hot mutation selecting plain fields runs its plan instead (lean.py), made once with the document.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from inspect import isawaitable
from typing import Any, cast

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from strawberry import Schema
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from kalem.domain.errors import KalemError
from kalem.platforms.zonos.face import lean
from kalem.platforms.zonos.face.codes import (
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    QUERY_TOO_COMPLEX,
    QUERY_TOO_DEEP,
)
from kalem.platforms.zonos.face.limits import QueryLimits

MAX_TOKENS = 2000  # depth, aliases, cost and page size: see limits.py
DOCUMENTS_CACHED = 256
RULES = (*specified_rules, QueryLimits, MaybeNullValidationRule, OneOfInputValidationRule)


@dataclass(frozen=True)
class Document:
    """A request's document: parsed (or not), what validating it found, and its lean plan if any."""

    node: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    plan: lean.Plan | None = None

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        return get_operation_ast(self.node, name) if self.node is not None else None


@dataclass(frozen=True)
class Outcome:
    """What the request produced: `ran` is False for a request error (nothing executed, no `data`)."""

    ran: bool
    data: dict[str, Any] | None
    errors: list[dict[str, Any]]


class Executor:
    def __init__(self, schema: Schema, hot: Mapping[str, lean.Work]) -> None:
        self.schema, self.hot = schema, hot
        self.document = lru_cache(maxsize=DOCUMENTS_CACHED)(self._prepare)

    def _prepare(self, query: str) -> Document:
        try:
            node = parse(query, max_tokens=MAX_TOKENS)
        except GraphQLError as error:
            return Document(None, (error,))
        try:
            errors = validate(self.schema._schema, node, RULES)
        except GraphQLError as error:  # graphql-core gives up on fragments nested past its parser's limit
            errors = [error]
        return Document(node, tuple(errors), None if errors else lean.plan(self.schema._schema, node, self.hot))

    async def run(self, document: Document, operation_name: str | None, variables: dict[str, Any] | None,
                  context: dict[str, Any]) -> Outcome:
        if document.errors:
            return self._refused(document.errors)
        operation = document.operation(operation_name)
        if operation is None or document.node is None:
            message = (f"the document has no operation named {operation_name!r}" if operation_name
                       else "the document has several operations: name one with operationName")
            return Outcome(False, None, [_error(message, INVALID_REQUEST)])
        result: ExecutionResult | Awaitable[ExecutionResult]
        if document.plan is not None:  # the document's one operation
            result = await document.plan.run(self.schema._schema, variables, context)
        else:
            result = execute(self.schema._schema, document.node, context_value=context,
                             variable_values=variables, operation_name=operation_name,
                             executor_class=self.schema.execution_context_class,
                             # strawberry types its check as returning bool, graphql-core asks for a TypeGuard
                             is_awaitable=optimized_is_awaitable)  # type: ignore[arg-type]
            if isawaitable(result):
                result = await result
        errors = list(result.errors or ())
        if errors:
            self.schema.process_errors(errors)
        if result.data is None and errors and not any(e.path for e in errors):
            return self._refused(errors)  # the variables could not be coerced: nothing ran
        return Outcome(True, result.data, [_formatted(e) for e in errors])

    def _refused(self, errors: tuple[GraphQLError, ...] | list[GraphQLError]) -> Outcome:
        return Outcome(False, None, [_formatted(e) for e in errors])


def is_mutation(operation: OperationDefinitionNode | None) -> bool:
    return operation is not None and operation.operation is OperationType.MUTATION


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def _formatted(raw: GraphQLError) -> dict[str, Any]:
    error = cast(dict[str, Any], raw.formatted)  # a new dict (graphql-core types it as a closed TypedDict)
    extensions = error.setdefault("extensions", {})
    if _is_bug(raw):
        extensions["code"] = INTERNAL_ERROR
    extensions.setdefault("code", _code_of(error))
    if extensions["code"] == INTERNAL_ERROR:
        error["message"] = "an internal error occurred"  # never leak internals
    return error


def _code_of(error: dict[str, Any]) -> str:
    """A stable code for errors GraphQL itself raised (they carry no kalem code)."""
    message = error.get("message", "")
    # Depth, aliases, cost and page size carry their code already (limits.py). These are the parser's
    # nesting limit, graphql-core's abort for fragments nested past it, and its introspection limit.
    if "nested too deeply" in message or message == "Validation aborted." \
            or message == "Maximum introspection depth exceeded":
        return QUERY_TOO_DEEP
    if "tokens. Parsing aborted" in message:
        return QUERY_TOO_COMPLEX
    if message.startswith("Syntax Error"):
        return GRAPHQL_PARSE_FAILED
    if "path" in error:  # raised while resolving, yet not a kalem error: a bug of ours
        return INTERNAL_ERROR
    return GRAPHQL_VALIDATION_FAILED


def _is_bug(error: GraphQLError) -> bool:
    """An exception that is neither a kalem error nor GraphQL's own, wherever it was raised (a
    resolver, a validation rule): a bug of ours, whose message must not reach the caller."""
    cause = error.original_error
    return cause is not None and not isinstance(cause, (KalemError, GraphQLError))


__all__ = ["Document", "Executor", "Outcome", "is_mutation"]
