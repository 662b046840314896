"""What a GraphQL document may ask for, checked once per distinct document before anything runs.

One validation rule measures each operation in a single walk — depth, aliases, cost — and refuses
page sizes out of range. It replaces Strawberry's depth and alias limiters, which re-walk a
fragment every time it is spread: a few hundred bytes of fragments, each spreading the next five
times, kept them busy for minutes on the event loop. Here each fragment is measured once (memoised),
so validation is linear in the size of the document, however its fragments fan out.

Cost (docs/graphql.md): every selected field costs 1; a field with a `first`/`last` argument (a
connection) multiplies the cost of its selections by that argument — the literal, the argument's
default when absent, or `MAX_PAGE` when it is a variable (validation is cached per document and
never sees variables; the resolver refuses more than `MAX_PAGE`). Plain lists (items, refunds…) are
bounded by the order and count once. A fragment spread costs what the fragment costs, each time.

Depth is the longest chain of nested selections below a root field (`{ orders { edges { cursor } } }`
is 2); introspection fields do not count (graphql-core's `MaxIntrospectionDepthRule` bounds those).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    is_interface_type,
    is_object_type,
)
from graphql.language import SKIP, VisitorAction
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from kalem.domain.errors import InvalidInput
from kalem.platforms.zonos.face.codes import QUERY_TOO_COMPLEX, QUERY_TOO_DEEP

MAX_DEPTH, MAX_ALIASES, MAX_PAGE, MAX_COMPLEXITY = 6, 20, 100, 5000
PAGE_ARGUMENTS = ("first", "last")
_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef, "__typename": TypeNameMetaFieldDef}


class PageSizeOutOfRange(InvalidInput):
    """`first` (or `last`) outside 1..MAX_PAGE: refused by validation when written in the document,
    by the resolver when it comes in a variable."""
    code = "page_size_out_of_range"
    face_code = InvalidInput.code


@dataclass(frozen=True)
class Measure:
    cost: int = 0
    depth: int = 0
    aliases: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(self.cost + other.cost, max(self.depth, other.depth), self.aliases + other.aliases)


def _refusal(message: str, code: str, node: object, **extensions: int) -> GraphQLError:
    return GraphQLError(message, nodes=node, extensions={"code": code, **extensions})  # type: ignore[arg-type]


class QueryLimits(ValidationRule):
    """Depth ≤ MAX_DEPTH, aliases ≤ MAX_ALIASES, cost ≤ MAX_COMPLEXITY, 1 ≤ first/last ≤ MAX_PAGE."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self._fragments: dict[str, Measure] = {}
        self._measuring: set[str] = set()

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> VisitorAction:
        # Recursive, but graphql-core aborts validation before any rule runs when fragments nest
        # deeper than its parser's nesting limit ("Validation aborted.").
        measure = self._selections(node.selection_set, self.context.schema.get_root_type(node.operation))
        name = node.name.value if node.name else "the operation"
        if measure.depth > MAX_DEPTH:
            self.report_error(_refusal(f"{name} is nested {measure.depth} levels deep; the limit is {MAX_DEPTH}",
                                       QUERY_TOO_DEEP, node, depth=measure.depth, maxDepth=MAX_DEPTH))
        if measure.aliases > MAX_ALIASES:
            self.report_error(_refusal(f"{name} uses {measure.aliases} aliases; the limit is {MAX_ALIASES}",
                                       QUERY_TOO_COMPLEX, node, aliases=measure.aliases, maxAliases=MAX_ALIASES))
        if measure.cost > MAX_COMPLEXITY:
            self.report_error(_refusal(
                f"{name} costs {measure.cost}; the limit is {MAX_COMPLEXITY} (each field costs 1, a connection "
                f"multiplies its selections by `first`)", QUERY_TOO_COMPLEX, node,
                cost=measure.cost, maxCost=MAX_COMPLEXITY))
        return SKIP  # measured above; nothing below needs visiting again

    def enter_fragment_definition(self, *_: object) -> VisitorAction:
        return SKIP  # measured where spread

    def _selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> Measure:
        total = Measure()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                total += self._selections(selection.selection_set,
                                          self.context.schema.get_type(condition.name.value) if condition else parent)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        definition = _field_definition(parent, node.name.value)
        inner = self._selections(node.selection_set, get_named_type(definition.type) if definition else None)
        depth = 0 if node.name.value.startswith("__") or node.selection_set is None else 1 + inner.depth
        return Measure(1 + self._page_size(node, definition) * inner.cost, depth,
                       inner.aliases + (node.alias is not None))

    def _fragment(self, name: str) -> Measure:
        if name in self._fragments:
            return self._fragments[name]
        fragment = self.context.get_fragment(name)
        if fragment is None or name in self._measuring:
            return Measure()  # unknown fragments and cycles are refused by graphql-core's own rules
        self._measuring.add(name)
        measure = self._selections(fragment.selection_set,
                                   self.context.schema.get_type(fragment.type_condition.name.value))
        self._measuring.discard(name)
        self._fragments[name] = measure
        return measure

    def _page_size(self, node: FieldNode, definition: GraphQLField | None) -> int:
        """The multiplier of a connection's selections: its page size, or 1 for any other field."""
        if definition is None or not any(name in definition.args for name in PAGE_ARGUMENTS):
            return 1
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        sizes = []
        for name in PAGE_ARGUMENTS:
            if name not in definition.args:
                continue
            if name not in given:
                default = definition.args[name].default_value
                sizes.append(default if isinstance(default, int) else MAX_PAGE)
            elif isinstance(literal := given[name], IntValueNode):
                size = int(literal.value)
                if not 1 <= size <= MAX_PAGE:
                    self.report_error(_refusal(f"{name} must be between 1 and {MAX_PAGE}",
                                               PageSizeOutOfRange.face_code.upper(), given[name], maxPage=MAX_PAGE))
                sizes.append(min(max(size, 1), MAX_PAGE))
            else:  # a variable (or a wrong literal, which graphql-core refuses): assume the largest page
                sizes.append(MAX_PAGE)
        return max(sizes)


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if name in _META_FIELDS:
        return _META_FIELDS[name]
    if parent is not None and (is_object_type(parent) or is_interface_type(parent)):
        return parent.fields.get(name)
    return None


__all__ = ["MAX_ALIASES", "MAX_COMPLEXITY", "MAX_DEPTH", "MAX_PAGE", "QueryLimits"]
