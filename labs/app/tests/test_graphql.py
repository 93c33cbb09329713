import json

import pytest

from crm.models import Customer, Order, Product

pytestmark = pytest.mark.django_db


def gql(client, query, variables=None):
    response = client.post("/graphql", json.dumps({"query": query, "variables": variables or {}}),
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


def test_hello(client):
    assert gql(client, "{ hello }") == {"data": {"hello": "Hello, GraphQL!"}}


def test_graphiql_is_served(client):
    response = client.get("/graphql", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"graphiql" in response.content.lower()


CREATE_CUSTOMER = """
mutation($input: CustomerInput!) {
  createCustomer(input: $input) { customer { id name email phone } message }
}"""


def test_create_customer_validates_email_and_phone(client):
    ok = gql(client, CREATE_CUSTOMER, {"input": {"name": "Alice", "email": "alice@example.com",
                                                 "phone": "+251911234567"}})
    assert ok["data"]["createCustomer"]["customer"]["email"] == "alice@example.com"
    dup = gql(client, CREATE_CUSTOMER, {"input": {"name": "A2", "email": "alice@example.com"}})
    assert dup["errors"][0]["message"] == "Email already exists."
    bad = gql(client, CREATE_CUSTOMER, {"input": {"name": "B", "email": "b@example.com",
                                                  "phone": "12ab"}})
    assert "Invalid phone" in bad["errors"][0]["message"]


def test_bulk_create_customers_partial_success(client):
    result = gql(client, """
    mutation($input: [CustomerInput!]!) {
      bulkCreateCustomers(input: $input) { customers { email } errors }
    }""", {"input": [
        {"name": "Bob", "email": "bob@example.com", "phone": "123-456-7890"},
        {"name": "Bad", "email": "not-an-email"},
        {"name": "Bob again", "email": "bob@example.com"},
        {"name": "Carol", "email": "carol@example.com"},
    ]})["data"]["bulkCreateCustomers"]
    assert [c["email"] for c in result["customers"]] == ["bob@example.com", "carol@example.com"]
    assert len(result["errors"]) == 2
    assert Customer.objects.count() == 2


def test_create_product_validation(client):
    query = """mutation($input: ProductInput!) {
      createProduct(input: $input) { product { name price stock } } }"""
    ok = gql(client, query, {"input": {"name": "Laptop", "price": "999.99", "stock": 10}})
    assert ok["data"]["createProduct"]["product"] == {"name": "Laptop", "price": "999.99",
                                                      "stock": 10}
    assert "positive" in gql(client, query, {"input": {"name": "Free", "price": "0"}}
                             )["errors"][0]["message"]
    assert "negative" in gql(client, query, {"input": {"name": "X", "price": "1", "stock": -1}}
                             )["errors"][0]["message"]


def test_create_order_totals_product_prices(client):
    customer = Customer.objects.create(name="Dan", email="dan@example.com")
    a = Product.objects.create(name="A", price="10.50", stock=3)
    b = Product.objects.create(name="B", price="4.25", stock=30)
    query = """mutation($input: OrderInput!) {
      createOrder(input: $input) { order { totalAmount customer { name } products { name } } } }"""
    result = gql(client, query, {"input": {"customerId": str(customer.pk),
                                           "productIds": [str(a.pk), str(b.pk)]}})
    order = result["data"]["createOrder"]["order"]
    assert order["totalAmount"] == "14.75" and order["customer"]["name"] == "Dan"
    bad = gql(client, query, {"input": {"customerId": str(customer.pk), "productIds": []}})
    assert "at least one product" in bad["errors"][0]["message"]
    missing = gql(client, query, {"input": {"customerId": str(a.pk), "productIds": [str(a.pk)]}})
    assert "Invalid customer" in missing["errors"][0]["message"]
    assert Order.objects.count() == 1


def test_filters_and_ordering(client):
    Customer.objects.create(name="Alice", email="alice@example.com", phone="+251911")
    Customer.objects.create(name="Alina", email="alina@example.com", phone="0911")
    Customer.objects.create(name="Zed", email="zed@example.com")
    Product.objects.create(name="Pen", price=2, stock=3)
    Product.objects.create(name="Desk", price=200, stock=50)

    customers = gql(client, """{ allCustomers(name: "ali", orderBy: "-name") {
        edges { node { name } } } }""")["data"]["allCustomers"]["edges"]
    assert [e["node"]["name"] for e in customers] == ["Alina", "Alice"]
    by_phone = gql(client, '{ allCustomers(phonePattern: "+251") { edges { node { name } } } }')
    assert [e["node"]["name"] for e in by_phone["data"]["allCustomers"]["edges"]] == ["Alice"]
    low = gql(client, "{ allProducts(lowStock: true) { edges { node { name stock } } } }")
    assert [e["node"]["name"] for e in low["data"]["allProducts"]["edges"]] == ["Pen"]
    pricey = gql(client, "{ allProducts(priceGte: 100) { edges { node { name } } } }")
    assert [e["node"]["name"] for e in pricey["data"]["allProducts"]["edges"]] == ["Desk"]


def test_order_filters(client):
    alice = Customer.objects.create(name="Alice", email="alice@example.com")
    bob = Customer.objects.create(name="Bob", email="bob@example.com")
    pen = Product.objects.create(name="Pen", price=2, stock=3)
    desk = Product.objects.create(name="Desk", price=200, stock=50)
    from crm.services import order_create

    order_create(customer_id=alice.pk, product_ids=[pen.pk])
    order_create(customer_id=bob.pk, product_ids=[pen.pk, desk.pk])
    big = gql(client, """{ allOrders(totalAmountGte: 100) {
        edges { node { customer { name } totalAmount } } } }""")["data"]["allOrders"]["edges"]
    assert [(e["node"]["customer"]["name"], e["node"]["totalAmount"]) for e in big] == [
        ("Bob", "202.00")]
    with_desk = gql(client, '{ allOrders(productName: "desk") { edges { node { id } } } }')
    assert len(with_desk["data"]["allOrders"]["edges"]) == 1
