"""What one GraphQL request may cost: size, depth, aliases and an estimate of rows.

graphql-core already bounds parser nesting and refuses fragment cycles; this adds what it
does not: a cap on the document's size (checked while parsing), and a validation rule that
refuses an operation that is too deep, uses too many aliases, or could resolve too many
objects (each connection counts `first`/`last` or RELAY_CONNECTION_MAX_LIMIT, each plain
list LIST_SIZE).
graphene's depth_limit_validator is not used: it raises (a 500) on an unknown fragment and
recurses forever on a fragment cycle, both of which a client can send.
"""

from __future__ import annotations

from graphene_django.settings import graphene_settings
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
    get_nullable_type,
)

MAX_QUERY_LENGTH = 10_000  # characters
MAX_TOKENS = 2_000
MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_COST = 5_000
LIST_SIZE = 10  # what a plain list field (an order's products) is assumed to hold


class QueryBudget(ValidationRule):
    """Depth, alias and cost limits per operation (introspection fields are free)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.fragments = {d.name.value: d for d in context.document.definitions
                          if isinstance(d, FragmentDefinitionNode)}

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
        schema = self.context.schema
        root = schema.get_root_type(node.operation)
        if root is None:
            return  # KnownOperationTypes reports it
        self.depth = self.aliases = self.cost = 0
        self.walk(node.selection_set, root, multiplier=1, depth=0, seen=frozenset())
        name = node.name.value if node.name else "the operation"
        for what, value, limit in (("depth", self.depth, MAX_DEPTH),
                                   ("aliases", self.aliases, MAX_ALIASES),
                                   ("cost", self.cost, MAX_COST)):
            if value > limit:
                self.report_error(GraphQLError(
                    f"{name} exceeds the maximum {what} of {limit} ({value}).", node))
                return

    def walk(self, selections: SelectionSetNode | None, parent: GraphQLNamedType | None,
             multiplier: int, depth: int, seen: frozenset[str]) -> None:
        if selections is None or self.cost > MAX_COST or depth > MAX_DEPTH:
            return  # already over a limit: stop counting
        self.depth = max(self.depth, depth)
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                self.field(selection, parent, multiplier, depth, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = (self.context.schema.get_type(condition.name.value) if condition
                          else parent)
                self.walk(selection.selection_set, target, multiplier, depth, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue  # unknown or cyclic: the standard rules report it
                target = self.context.schema.get_type(fragment.type_condition.name.value)
                self.walk(fragment.selection_set, target, multiplier, depth, seen | {name})

    def field(self, node: FieldNode, parent: GraphQLNamedType | None, multiplier: int,
              depth: int, seen: frozenset[str]) -> None:
        name = node.name.value
        if name.startswith("__"):
            return  # introspection: bounded by the schema, not by the data
        if node.alias is not None:
            self.aliases += 1
        self.cost += multiplier
        definition = (parent.fields.get(name) if isinstance(parent, GraphQLObjectType)
                      else None)
        if definition is None or node.selection_set is None:
            return
        field_type = get_nullable_type(definition.type)
        rows = 1
        if "first" in definition.args or "last" in definition.args:
            rows = page_size(node)  # a connection: its edges hold this many rows
        elif isinstance(field_type, GraphQLList) and not parent.name.endswith("Connection"):
            rows = LIST_SIZE  # edges of a connection are counted by the connection
        self.walk(node.selection_set, get_named_type(field_type), multiplier * rows,
                  depth + 1, seen)


def page_size(node: FieldNode) -> int:
    """`first`/`last` when given as a literal within the limit, else the page limit."""
    limit = graphene_settings.RELAY_CONNECTION_MAX_LIMIT  # the most rows a connection gives
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last") and isinstance(argument.value, IntValueNode):
            return max(0, min(int(argument.value.value), limit))
    return limit
