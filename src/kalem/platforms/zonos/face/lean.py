"""A leaner execution for the hot mutations.

`orderItemUpdate` is what a Zonos client sends on every change: one document text, new variables each
time. When a hot mutation's document selects plain fields only — of the payload, the order and its
items, aliases and `__typename` allowed, no fragments, no directives — it gets a plan once, when the
document is first parsed (execution.py). Running the plan keeps what graphql-core would do: it coerces
the variables and arguments, the mutation runs the work its Strawberry resolver runs, and each selected
field is read from the same Strawberry objects and serialised by its GraphQL type, in selection order.
It skips the per-field machinery (a resolve info, a resolver wrapper and an awaitable check per field)
and reads no more than the selection shows. Every other document runs on graphql-core.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    is_leaf_type,
    located_error,
)
from graphql.execution.values import get_argument_values, get_variable_values

#: A hot mutation's work: (request context, the field names selected, its arguments by Python name).
Work = Callable[..., Awaitable[Any]]
_DEFINITION = "strawberry-definition"  # where Strawberry keeps each GraphQL field's own definition


@dataclass(frozen=True, slots=True)
class Field:
    key: str  # the response key: the alias, else the name
    name: str
    type: GraphQLOutputType | None = None  # None for `__typename`
    attribute: str = ""  # where the Strawberry object holds the value
    fields: tuple[Field, ...] = ()  # an object's selection


@dataclass(frozen=True, slots=True)
class Plan:
    operation: OperationDefinitionNode
    node: FieldNode
    field: GraphQLField
    work: Work
    arguments: Mapping[str, str]  # GraphQL argument name -> the work's keyword
    selection: tuple[Field, ...]
    shown: frozenset[str]  # every field name selected

    @property
    def key(self) -> str:
        return (self.node.alias or self.node.name).value

    async def run(self, schema: GraphQLSchema, variables: dict[str, Any] | None,
                  context: dict[str, Any]) -> ExecutionResult:
        values = get_variable_values(schema, self.operation.variable_definitions or (), variables or {},
                                     max_errors=50)
        if isinstance(values, list):
            return ExecutionResult(None, values)  # the variables do not fit: nothing runs
        try:
            arguments = get_argument_values(self.field, self.node, values)
            result = await self.work(context, self.shown,
                                     **{self.arguments[name]: value for name, value in arguments.items()})
            data = _complete(self.field.type, self.selection, result)
        except Exception as exc:  # noqa: BLE001 - any error fails the field, as graphql-core fails it
            # (null, and `data` too when the field is non-null); a value that does not serialise, a bug,
            # fails the whole field rather than only itself
            data = None if isinstance(self.field.type, GraphQLNonNull) else {self.key: None}
            return ExecutionResult(data, [located_error(exc, [self.node], [self.key])])
        return ExecutionResult({self.key: data}, None)


def plan(schema: GraphQLSchema, document: DocumentNode, hot: Mapping[str, Work]) -> Plan | None:
    """The plan of a document that is one hot mutation selecting plain fields; else None."""
    if len(document.definitions) != 1 or not isinstance(operation := document.definitions[0],
                                                        OperationDefinitionNode):
        return None
    roots = operation.selection_set.selections
    if operation.operation is not OperationType.MUTATION or operation.directives or len(roots) != 1 \
            or any(v.directives for v in operation.variable_definitions or ()):
        return None
    node = roots[0]
    if not isinstance(node, FieldNode) or node.directives or node.name.value not in hot \
            or schema.mutation_type is None:
        return None
    field = schema.mutation_type.fields[node.name.value]
    if not all(isinstance(get_named_type(a.type), GraphQLScalarType) for a in field.args.values()):
        return None  # input objects and enums are Strawberry's to convert
    selection = _selection(get_named_type(field.type), node.selection_set)
    if selection is None:
        return None
    return Plan(operation, node, field, hot[node.name.value],
                {name: a.extensions[_DEFINITION].python_name for name, a in field.args.items()},
                selection, frozenset(_names(selection)))


def _selection(parent: Any, selection_set: SelectionSetNode | None) -> tuple[Field, ...] | None:
    if not isinstance(parent, GraphQLObjectType) or selection_set is None:
        return None
    fields: list[Field] = []
    for node in selection_set.selections:
        if not isinstance(node, FieldNode) or node.directives:
            return None
        key, name = (node.alias or node.name).value, node.name.value
        if any(f.key == key for f in fields):
            return None  # a repeated key merges its selections: graphql-core's to do
        if name == "__typename":
            fields.append(Field(key, name))
            continue
        field = parent.fields[name]
        definition = field.extensions.get(_DEFINITION)
        if definition is None or not definition.is_basic_field or field.args:
            return None  # a field with a resolver of its own
        named = get_named_type(field.type)
        inner = () if is_leaf_type(named) else _selection(named, node.selection_set)
        if inner is None:
            return None
        fields.append(Field(key, name, field.type, definition.python_name, inner))
    return tuple(fields)


def _names(selection: tuple[Field, ...]) -> list[str]:
    return [name for f in selection for name in (f.name, *_names(f.fields))]


def _complete(type_: GraphQLOutputType, selection: tuple[Field, ...], value: Any) -> Any:
    """A value as graphql-core completes it: null checked against non-null, lists item by item,
    leaves serialised by their type, objects field by field."""
    if isinstance(type_, GraphQLNonNull):
        completed = _complete(type_.of_type, selection, value)
        if completed is None:
            raise TypeError(f"a non-null {type_} resolved to null")
        return completed
    if value is None:
        return None
    if isinstance(type_, GraphQLList):
        return [_complete(type_.of_type, selection, item) for item in value]
    if is_leaf_type(type_):
        serialized = type_.serialize(value)
        if serialized is None or serialized is Undefined:
            raise TypeError(f"{type_} serialised {value!r} to null")
        return serialized
    return {f.key: type_.name if f.type is None else
            _complete(f.type, f.fields, getattr(value, f.attribute)) for f in selection}


__all__ = ["Plan", "Work", "plan"]
