"""GraphQL CRM at /graphql: a hello query, filtered lists and four mutations.

Resolvers stay thin: reads go through django-filter FilterSets, writes through crm.services.
`{ hello }` and allProducts are public; customers, orders and the mutations need a signed-in
user (`Authorization: Bearer <access token>`, crm.auth.login_required).
"""

import graphene
from graphene_django import DjangoObjectType
from graphene_django.filter import DjangoFilterConnectionField
from graphql import GraphQLError

from . import services
from .auth import login_required
from .filters import CustomerFilter, OrderFilter, ProductFilter
from .models import Customer, Order, Product


class CustomerType(DjangoObjectType):
    class Meta:
        model = Customer
        fields = ("id", "name", "email", "phone", "created_at")
        filterset_class = CustomerFilter
        use_connection = True


class ProductType(DjangoObjectType):
    class Meta:
        model = Product
        fields = ("id", "name", "price", "stock")
        filterset_class = ProductFilter
        use_connection = True


class OrderType(DjangoObjectType):
    class Meta:
        model = Order
        fields = ("id", "customer", "total_amount", "order_date")
        filterset_class = OrderFilter
        use_connection = True

    products = graphene.List(graphene.NonNull(ProductType), required=True)

    def resolve_products(self, info):
        return self.products.all()


class Query(graphene.ObjectType):
    # BEGIN SOLUTION lesson 1
    hello = graphene.String(default_value="Hello, GraphQL!")
    # STARTER
    # hello = graphene.String()  # TODO: answer "Hello, GraphQL!"
    # END SOLUTION
    # Arguments come from the FilterSets, e.g. allProducts(lowStock: true, orderBy: "-price").
    all_customers = DjangoFilterConnectionField(CustomerType)
    all_products = DjangoFilterConnectionField(ProductType)
    all_orders = DjangoFilterConnectionField(OrderType)

    @login_required
    def resolve_all_customers(self, info, **kwargs):
        return Customer.objects.all()

    @login_required
    def resolve_all_orders(self, info, **kwargs):
        return Order.objects.select_related("customer").prefetch_related("products")


class CustomerInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    email = graphene.String(required=True)
    phone = graphene.String()


class ProductInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    price = graphene.Decimal(required=True)
    stock = graphene.Int(default_value=0)


class OrderInput(graphene.InputObjectType):
    customer_id = graphene.ID(required=True)
    product_ids = graphene.List(graphene.NonNull(graphene.ID), required=True)
    order_date = graphene.DateTime()


class CreateCustomer(graphene.Mutation):
    class Arguments:
        input = CustomerInput(required=True)

    customer = graphene.Field(CustomerType)
    message = graphene.String()

    @login_required
    def mutate(self, info, input):
        try:
            customer = services.customer_create(**input)
        except services.CrmValidationError as exc:
            raise GraphQLError(str(exc)) from exc
        return CreateCustomer(customer=customer, message="Customer created successfully.")


class BulkCreateCustomers(graphene.Mutation):
    class Arguments:
        input = graphene.List(graphene.NonNull(CustomerInput), required=True)

    customers = graphene.List(CustomerType)
    errors = graphene.List(graphene.String)

    @login_required
    def mutate(self, info, input):
        try:
            created, errors = services.customers_bulk_create(rows=[dict(row) for row in input])
        except services.CrmValidationError as exc:
            raise GraphQLError(str(exc)) from exc
        return BulkCreateCustomers(customers=created, errors=errors)


class CreateProduct(graphene.Mutation):
    class Arguments:
        input = ProductInput(required=True)

    product = graphene.Field(ProductType)

    @login_required
    def mutate(self, info, input):
        try:
            product = services.product_create(**input)
        except services.CrmValidationError as exc:
            raise GraphQLError(str(exc)) from exc
        return CreateProduct(product=product)


class CreateOrder(graphene.Mutation):
    class Arguments:
        input = OrderInput(required=True)

    order = graphene.Field(OrderType)

    @login_required
    def mutate(self, info, input):
        try:
            order = services.order_create(**input)
        except services.CrmValidationError as exc:
            raise GraphQLError(str(exc)) from exc
        return CreateOrder(order=order)


class Mutation(graphene.ObjectType):
    create_customer = CreateCustomer.Field()
    bulk_create_customers = BulkCreateCustomers.Field()
    create_product = CreateProduct.Field()
    create_order = CreateOrder.Field()


schema = graphene.Schema(query=Query, mutation=Mutation)
