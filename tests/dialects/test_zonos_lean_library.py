"""The Zonos face's lean execution (src/kalem/platforms/zonos/face/lean.py and execution.py) copies
what graphql-core and Strawberry do with a request; these tests fail when that behaviour, or the
internals the copy reads, change underneath it.

What lean.py and execution.py rely on:

- graphql-core's `graphql.execution.values.get_variable_values(schema, definitions, inputs,
  max_errors=...)`, answering a list of errors or the coerced values, with the limit `execute` uses
  itself (its `max_coercion_errors`, 50); `get_argument_values(field, node, variables)`;
  `located_error(error, nodes, path)`; `ExecutionResult(data, errors)`; each leaf type's `serialize`;
  and `execute(..., executor_class=..., is_awaitable=...)`, `parse(..., max_tokens=...)`,
  `validate(schema, document, rules)`;
- Strawberry's `Schema._schema` (the graphql-core schema it built), `Schema.execution_context_class`,
  `Schema.process_errors(errors)`, `strawberry.execution.is_awaitable.optimized_is_awaitable`; the
  validation rules Strawberry adds to graphql-core's own (`MaybeNullValidationRule`,
  `OneOfInputValidationRule`, execution.py's `RULES`); and the `"strawberry-definition"` extension of
  every GraphQL field and argument, with its `python_name` and `is_basic_field` — a basic field's
  value being the attribute of that name, as Strawberry's default resolver reads it.

The hot mutation's work is swapped for one that notes what it is given and answers as told, for the
Strawberry resolver and for the plan alike: the same documents and variables are then run by the plan,
by graphql-core's `execute` over the same schema and by Strawberry's own `Schema.execute`, and their
answers compared — data, errors with their locations and paths, and what the work was given.
"""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime
from typing import Any

import graphql
import pytest
import strawberry
import strawberry.schema.schema as strawberry_schema
from graphql import ExecutionResult, GraphQLError, execute, get_named_type, is_leaf_type, parse, specified_rules
from graphql.execution import values
from strawberry.execution.is_awaitable import optimized_is_awaitable

from kalem.domain.errors import OrderNotFound, QuantityExceedsCancellable
from kalem.platforms.zonos.face import execution, lean
from kalem.platforms.zonos.face import schema as zonos
from kalem.platforms.zonos.face.execution import Executor
from kalem.platforms.zonos.face.limits import QueryLimits
from kalem.platforms.zonos.face.types import Item, Order, OrderItemUpdatePayload, OrderStatus
from tests.dialects.test_zonos import ORDER_FIELDS
from tests.support import on_own_loop

ARGUMENTS = "orderId: $orderId, accountOrderNumber: $aon, itemId: $itemId, itemSku: $sku, productId: $product, " \
            "quantity: $quantity"
VARIABLES = "$orderId: ID, $aon: String, $itemId: ID, $sku: String, $product: String, $quantity: Int!"
DOCUMENTS = [  # every one of them gets a plan
    f"mutation({VARIABLES}) {{ orderItemUpdate({ARGUMENTS}) {{ order {{ {ORDER_FIELDS} }} }} }}",
    (f"mutation Named({VARIABLES}) {{ u: orderItemUpdate({ARGUMENTS}) {{ __typename t: __typename "
     "o: order { __typename status i: id items { n: name q: quantity amount hsCode sku productId __typename } "
     "createdAt c: currencyCode } } }"),
    'mutation { orderItemUpdate(quantity: 2, orderId: "order_x", itemSku: "T123") { order { id updatedBy } } }',
    "mutation($q: Int = 3) { orderItemUpdate(quantity: $q) { order { items { quantity } } } }",
    ("mutation($quantity: Int!, $itemId: ID) { orderItemUpdate(quantity: $quantity, itemId: $itemId) { "
     "order { accountOrderNumber } } }"),
]
FULL = {"orderId": "order_1", "aon": "AO-1", "itemId": "item_1", "sku": "T123-BLUE", "product": "p-1", "quantity": 1}
VARIABLE_SETS = [
    FULL,
    {"quantity": 2},
    {**FULL, "orderId": 5, "itemId": 77, "unknown": "ignored"},   # an ID takes an integer as its text
    {**FULL, "aon": None, "sku": "çok güzel ✓"},
    {**FULL, "quantity": "many"},
    {**FULL, "quantity": 2**31},
    {**FULL, "quantity": 1.5, "aon": 7, "orderId": True},   # several errors, in order
    {**FULL, "quantity": None},
    {"orderId": "order_1"},
    {"q": None},   # explicit null where the argument is non-null: refused while executing, not before
    None,
]


def _payload(**item: Any) -> OrderItemUpdatePayload:
    created = datetime(2024, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
    items = [Item(id=strawberry.ID("item_1"), product_id="p-1", sku="T123-BLUE", name="T-Shirt ✓", amount=19.99,
                  currency_code="USD", quantity=2, hs_code="610910"),
             Item(**{"id": strawberry.ID("item_2"), "product_id": None, "sku": None, "name": "", "amount": 0.1 + 0.2,
                     "currency_code": "USD", "quantity": 0, "hs_code": None, **item})]
    return OrderItemUpdatePayload(order=Order(
        id=strawberry.ID("order_1"), account_order_number=None, status=OrderStatus["PARTIALLY_SHIPPED"],
        currency_code="USD", created_at=created, created_by="operator:admin",
        updated_at=datetime(2024, 6, 2, tzinfo=UTC), updated_by="seller:acme", items=items,
        domain=None, billing=None, refund_records=()))


class Work:
    """The hot mutation's work, as the resolver and the plan call it: notes its arguments, answers `answer`
    (raises it, if it is an exception)."""

    def __init__(self) -> None:
        self.answer: Any = _payload()
        self.given: list[tuple[frozenset[str], dict[str, Any]]] = []

    async def __call__(self, context: dict[str, Any], shown: frozenset[str], **arguments: Any) -> Any:
        self.given.append((shown, arguments))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def work(monkeypatch: pytest.MonkeyPatch) -> Work:
    work = Work()
    monkeypatch.setattr(zonos, "item_update", work)   # what the Strawberry resolver calls
    return work


def _exact(result: ExecutionResult) -> tuple[str, list[dict[str, Any]]]:
    return json.dumps(result.data), [e.formatted for e in result.errors or ()]   # key order included


def _outcome(outcome: execution.Outcome) -> str:
    return json.dumps([outcome.ran, outcome.data, outcome.errors])


class Ways:
    """One document and its variables, run each way over one schema."""

    def __init__(self, work: Work) -> None:
        self.work = work
        self.schema = zonos.build_schema()
        self.planned = Executor(self.schema, {"orderItemUpdate": work})
        self.core = Executor(self.schema, {})   # no plans: graphql-core runs every document

    async def plan(self, text: str, variables: Any) -> tuple[ExecutionResult, execution.Outcome, Any]:
        document = self.planned.document(text)
        assert document.plan is not None, text
        self.work.given.clear()
        raw = await document.plan.run(self.schema._schema, variables, {})
        outcome = await self.planned.run(document, None, variables, {})
        return raw, outcome, list(self.work.given)

    async def graphql_core(self, text: str, variables: Any) -> tuple[ExecutionResult, execution.Outcome, Any]:
        document = self.core.document(text)
        assert document.plan is None and not document.errors, text
        self.work.given.clear()
        raw = execute(self.schema._schema, parse(text), context_value={}, variable_values=variables,
                      executor_class=self.schema.execution_context_class, is_awaitable=optimized_is_awaitable)
        if inspect.isawaitable(raw):
            raw = await raw
        outcome = await self.core.run(document, None, variables, {})
        return raw, outcome, list(self.work.given)

    async def strawberry(self, text: str, variables: Any) -> ExecutionResult:
        return await self.schema.execute(text, variable_values=variables, context_value={})


def _same_work(plan: Any, core: Any, text: str) -> None:
    """The plan gives the work what the resolver gives it: the same arguments, of the same types, and
    the field names selected (the resolver's also names the mutation itself)."""
    assert len(plan) == len(core), text
    for (shown, arguments), (core_shown, core_arguments) in zip(plan, core, strict=True):
        assert [(k, type(v), v) for k, v in sorted(arguments.items())] == [
            (k, type(v), v) for k, v in sorted(core_arguments.items())], text
        assert shown | {"orderItemUpdate"} == core_shown, text


def test_the_plan_answers_as_graphql_core_and_strawberry_do(work):
    ways = Ways(work)

    async def run() -> None:
        answers = [_payload(), OrderNotFound("order order_1 not found", order_number="order_1"),
                   zonos.zonos_error(QuantityExceedsCancellable("only 2 units are open", line_id="item_1")),
                   RuntimeError("a bug of ours, with a secret in it")]
        compared = 0
        for answer in answers:
            work.answer = answer
            for text in DOCUMENTS:
                for variables in VARIABLE_SETS:
                    plan_raw, plan_outcome, plan_given = await ways.plan(text, variables)
                    core_raw, core_outcome, core_given = await ways.graphql_core(text, variables)
                    case = (answer, text, variables)
                    assert _exact(plan_raw) == _exact(core_raw), case
                    assert _outcome(plan_outcome) == _outcome(core_outcome), case
                    assert _exact(await ways.strawberry(text, variables)) == _exact(core_raw), case
                    _same_work(plan_given, core_given, text)
                    compared += bool(plan_given)
        assert compared > 40   # most ran the work; the rest were refused variables
    on_own_loop(run)


def test_a_value_that_does_not_complete_is_the_same_internal_error_either_way(work):
    """A resolver answering null for a non-null field is a bug of ours. graphql-core nulls the nearest
    nullable parent and names the field's own path; the plan fails the whole mutation (lean.py): the
    caller gets the same masked error and no data either way."""
    ways = Ways(work)

    async def run() -> None:
        nulls = (None, OrderItemUpdatePayload(order=None), _payload(quantity=None), _payload(name=None))
        for answer in nulls:
            work.answer = answer
            for text in DOCUMENTS[:2]:
                _, plan, _ = await ways.plan(text, FULL)
                _, core, _ = await ways.graphql_core(text, FULL)
                for outcome in (plan, core):
                    assert outcome.ran and outcome.data is None, (answer, text)
                    assert [(e["message"], e["extensions"]["code"]) for e in outcome.errors] == [
                        ("an internal error occurred", "INTERNAL_ERROR")], (answer, text)
    on_own_loop(run)


def test_the_rules_are_strawberrys_own_with_the_limits(monkeypatch):
    """execution.py validates with graphql-core's rules, Strawberry's additions and its own limits:
    Strawberry's own validation uses exactly the first two."""
    used: list[tuple[type, ...]] = []

    def noted(schema: Any, document: Any, rules: Any, *args: Any, **kwargs: Any) -> list[GraphQLError]:
        used.append(tuple(rules))
        return graphql.validate(schema, document, rules, *args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", noted)
    on_own_loop(lambda: zonos.build_schema().execute("{ __typename }"))
    assert used == [tuple(r for r in execution.RULES if r is not QueryLimits)]
    assert execution.RULES[:len(specified_rules)] == tuple(specified_rules)


def test_the_internals_the_plan_reads_are_where_it_reads_them():
    def parameters(function: Any) -> list[str]:
        return list(inspect.signature(function).parameters)

    assert parameters(values.get_variable_values)[:4] == ["schema", "var_def_nodes", "inputs", "max_errors"]
    assert inspect.signature(execute).parameters["max_coercion_errors"].default == 50   # lean.py's max_errors
    assert parameters(values.get_argument_values)[:3] == ["type_def", "node", "variable_values"]
    assert parameters(graphql.located_error)[:3] == ["original_error", "nodes", "path"]
    assert parameters(ExecutionResult)[:2] == ["data", "errors"]
    assert {"executor_class", "is_awaitable", "context_value", "variable_values", "operation_name"} <= set(
        parameters(execute))
    assert "max_tokens" in parameters(parse) and parameters(graphql.validate)[:3] == ["schema", "document_ast", "rules"]
    assert parameters(optimized_is_awaitable) == ["value"]

    schema = zonos.build_schema()
    assert isinstance(schema._schema, graphql.GraphQLSchema)
    assert issubclass(schema.execution_context_class, graphql.execution.Executor)
    assert parameters(schema.process_errors)[:1] == ["errors"]
    # Every field and argument the plan may read carries Strawberry's definition of it.
    mutation = schema._schema.mutation_type
    assert mutation is not None
    for name in zonos.HOT_MUTATIONS:
        field = mutation.fields[name]
        hot = inspect.signature(zonos.HOT_MUTATIONS[name]).parameters
        for argument in field.args.values():
            assert argument.extensions[lean._DEFINITION].python_name in hot
        todo, seen = [get_named_type(field.type)], set()
        while todo:
            type_ = todo.pop()
            if type_.name in seen or is_leaf_type(type_):
                continue
            seen.add(type_.name)
            for child in type_.fields.values():
                definition = child.extensions[lean._DEFINITION]
                assert isinstance(definition.python_name, str) and isinstance(definition.is_basic_field, bool)
                if definition.is_basic_field and not child.args:
                    todo.append(get_named_type(child.type))
        assert {"OrderItemUpdatePayload", "Order", "Item"} <= seen
