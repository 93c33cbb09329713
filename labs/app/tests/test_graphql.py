import json
import time
import uuid

import pytest

from crm.models import Customer, Order, Product

pytestmark = pytest.mark.django_db


def gql(client, query, variables=None, status=200):
    response = client.post("/graphql", json.dumps({"query": query, "variables": variables or {}}),
                           content_type="application/json")
    assert response.status_code == status, response.content
    return response.json()


@pytest.fixture
def signed_in(make_user):
    """A client whose requests carry a user's JWT (mutations and CRM reads need one)."""
    from django.test import Client
    from rest_framework_simplejwt.tokens import RefreshToken

    token = RefreshToken.for_user(make_user("guest")).access_token
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)


def test_hello(client):
    assert gql(client, "{ hello }") == {"data": {"hello": "Hello, GraphQL!"}}


def test_graphiql_is_served(client):
    response = client.get("/graphql", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"graphiql" in response.content.lower()


CREATE_CUSTOMER = """
mutation($input: CustomerInput!) {
  createCustomer(input: $input) { customer { id name email phone } message }
}"""


def test_create_customer_validates_email_and_phone(signed_in):
    ok = gql(signed_in, CREATE_CUSTOMER, {"input": {"name": "Alice", "email": "alice@example.com",
                                                    "phone": "+251911234567"}})
    assert ok["data"]["createCustomer"]["customer"]["email"] == "alice@example.com"
    dup = gql(signed_in, CREATE_CUSTOMER, {"input": {"name": "A2", "email": "alice@example.com"}})
    assert dup["errors"][0]["message"] == "Email already exists."
    bad = gql(signed_in, CREATE_CUSTOMER, {"input": {"name": "B", "email": "b@example.com",
                                                     "phone": "12ab"}})
    assert "Invalid phone" in bad["errors"][0]["message"]


def test_bulk_create_customers_partial_success(signed_in):
    result = gql(signed_in, """
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


def test_create_product_validation(signed_in):
    query = """mutation($input: ProductInput!) {
      createProduct(input: $input) { product { name price stock } } }"""
    ok = gql(signed_in, query, {"input": {"name": "Laptop", "price": "999.99", "stock": 10}})
    assert ok["data"]["createProduct"]["product"] == {"name": "Laptop", "price": "999.99",
                                                      "stock": 10}
    assert "positive" in gql(signed_in, query, {"input": {"name": "Free", "price": "0"}}
                             )["errors"][0]["message"]
    assert "negative" in gql(signed_in, query, {"input": {"name": "X", "price": "1", "stock": -1}}
                             )["errors"][0]["message"]


def test_create_order_totals_product_prices(signed_in):
    customer = Customer.objects.create(name="Dan", email="dan@example.com")
    a = Product.objects.create(name="A", price="10.50", stock=3)
    b = Product.objects.create(name="B", price="4.25", stock=30)
    query = """mutation($input: OrderInput!) {
      createOrder(input: $input) { order { totalAmount customer { name } products { name } } } }"""
    result = gql(signed_in, query, {"input": {"customerId": str(customer.pk),
                                              "productIds": [str(a.pk), str(b.pk)]}})
    order = result["data"]["createOrder"]["order"]
    assert order["totalAmount"] == "14.75" and order["customer"]["name"] == "Dan"
    bad = gql(signed_in, query, {"input": {"customerId": str(customer.pk), "productIds": []}})
    assert "at least one product" in bad["errors"][0]["message"]
    missing = gql(signed_in, query, {"input": {"customerId": str(a.pk), "productIds": [str(a.pk)]}})
    assert "Invalid customer" in missing["errors"][0]["message"]
    assert Order.objects.count() == 1


def test_filters_and_ordering(signed_in):
    Customer.objects.create(name="Alice", email="alice@example.com", phone="+251911")
    Customer.objects.create(name="Alina", email="alina@example.com", phone="0911")
    Customer.objects.create(name="Zed", email="zed@example.com")
    Product.objects.create(name="Pen", price=2, stock=3)
    Product.objects.create(name="Desk", price=200, stock=50)

    customers = gql(signed_in, """{ allCustomers(name: "ali", orderBy: "-name") {
        edges { node { name } } } }""")["data"]["allCustomers"]["edges"]
    assert [e["node"]["name"] for e in customers] == ["Alina", "Alice"]
    by_phone = gql(signed_in, '{ allCustomers(phonePattern: "+251") { edges { node { name } } } }')
    assert [e["node"]["name"] for e in by_phone["data"]["allCustomers"]["edges"]] == ["Alice"]
    low = gql(signed_in, "{ allProducts(lowStock: true) { edges { node { name stock } } } }")
    assert [e["node"]["name"] for e in low["data"]["allProducts"]["edges"]] == ["Pen"]
    pricey = gql(signed_in, "{ allProducts(priceGte: 100) { edges { node { name } } } }")
    assert [e["node"]["name"] for e in pricey["data"]["allProducts"]["edges"]] == ["Desk"]


def test_order_filters(signed_in):
    alice = Customer.objects.create(name="Alice", email="alice@example.com")
    bob = Customer.objects.create(name="Bob", email="bob@example.com")
    pen = Product.objects.create(name="Pen", price=2, stock=3)
    desk = Product.objects.create(name="Desk", price=200, stock=50)
    from crm.services import order_create

    order_create(customer_id=alice.pk, product_ids=[pen.pk])
    order_create(customer_id=bob.pk, product_ids=[pen.pk, desk.pk])
    big = gql(signed_in, """{ allOrders(totalAmountGte: 100) {
        edges { node { customer { name } totalAmount } } } }""")["data"]["allOrders"]["edges"]
    assert [(e["node"]["customer"]["name"], e["node"]["totalAmount"]) for e in big] == [
        ("Bob", "202.00")]
    with_desk = gql(signed_in, '{ allOrders(productName: "desk") { edges { node { id } } } }')
    assert len(with_desk["data"]["allOrders"]["edges"]) == 1


# --- issue 11, item 2: who may call what, and what one request may cost ---------------------
CREATE_PRODUCT = """mutation { createProduct(input: {name: "Pen", price: "2.00"}) {
  product { id } } }"""


def test_mutations_need_a_signed_in_user(client, signed_in):
    for mutation in (CREATE_PRODUCT,
                     'mutation { createCustomer(input: {name: "A", email: "a@example.com"}) '
                     "{ customer { id } } }",
                     'mutation { bulkCreateCustomers(input: [{name: "A", email: "a@x.dev"}]) '
                     "{ errors } }",
                     'mutation { createOrder(input: {customerId: "1", productIds: ["1"]}) '
                     "{ order { id } } }"):
        refused = gql(client, mutation)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", refused
    assert Product.objects.count() == 0 and Customer.objects.count() == 0
    assert gql(signed_in, CREATE_PRODUCT)["data"]["createProduct"]["product"]["id"]


def test_public_reads_stay_anonymous_and_customer_data_does_not(client):
    Customer.objects.create(name="Alice", email="alice@example.com")
    Product.objects.create(name="Pen", price=2, stock=3)
    assert gql(client, "{ hello }")["data"]["hello"] == "Hello, GraphQL!"
    products = gql(client, "{ allProducts { edges { node { name } } } }")
    assert products["data"]["allProducts"]["edges"] == [{"node": {"name": "Pen"}}]
    for query in ("{ allCustomers { edges { node { email } } } }",
                  "{ allOrders { edges { node { customer { email } } } } }"):
        body = gql(client, query)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "alice@example.com" not in json.dumps(body)


def test_a_bad_token_is_a_401(client):
    response = client.post("/graphql", {"query": "{ hello }"}, content_type="application/json",
                           HTTP_AUTHORIZATION="Bearer not.a.token")
    assert response.status_code == 401 and response.json()["errors"]


def test_hundreds_of_aliases_are_refused_before_touching_the_database(client):
    query = "{ " + " ".join(f"a{i}: allProducts {{ edges {{ node {{ name }} }} }}"
                            for i in range(300)) + " }"
    compact = "{" + "".join(f"a{i}:allProducts{{edges{{node{{id}}}}}}" for i in range(100)) + "}"
    for document, refusal in ((query, "more than 10000"), (compact, "maximum aliases")):
        started = time.monotonic()
        response = client.post("/graphql", {"query": document}, content_type="application/json")
        assert time.monotonic() - started < 2
        assert response.status_code == 400, response.content[:300]
        assert refusal in response.json()["errors"][0]["message"]
        assert response["X-DB-Query-Count"] == "0"


@pytest.mark.parametrize("query, limit", [
    ("{ " + " ".join(f"a{i}: hello" for i in range(16)) + " }", "aliases"),
    ("{ " + " ".join(f"a{i}: allOrders {{ edges {{ node {{ products {{ name }} }} }} }}"
                     for i in range(8)) + " }", "cost"),
    ("{ allOrders { edges { node { customer { id } products { name } } } } }"
     .replace("name", "name " + "__typename " * 5), None),
    ("{ __schema { types { name fields { name type { name ofType { name ofType { name "
     "ofType { name ofType { name ofType { name } } } } } } } } } }", None),  # GraphiQL's kind
])
def test_aliases_and_cost_are_limited_but_ordinary_queries_pass(signed_in, query, limit):
    body = signed_in.post("/graphql", {"query": query}, content_type="application/json").json()
    if limit is None:
        assert "errors" not in body, body
    else:
        assert f"maximum {limit}" in body["errors"][0]["message"], body


def test_page_sizes_are_limited(signed_in):
    body = gql(signed_in, "{ allProducts(first: 1000) { edges { node { id } } } }")
    assert "exceeds the `first` limit of 50" in body["errors"][0]["message"]
    for i in range(60):
        Product.objects.create(name=f"P{i:02}", price=1, stock=1)
    edges = gql(signed_in, "{ allProducts { edges { node { id } } } }")
    assert len(edges["data"]["allProducts"]["edges"]) == 50


@pytest.mark.parametrize("query", [
    "{ ...Missing }",
    "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
    "{ " * 300 + "hello" + " }" * 300,
    "{ hello " + "__typename " * 3000 + "}",
    "x" * 20_000,
])
def test_hostile_documents_are_400s(client, query):
    response = client.post("/graphql", {"query": query}, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["errors"]


@pytest.mark.parametrize("body", [[], "{}", {"query": 42}, {"query": "{ hello }", "variables": [1]},
                                  {"query": "{ hello }", "operationName": {"a": 1}}])
def test_malformed_requests_are_400s(client, body):
    response = client.post("/graphql", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"]


def test_database_errors_do_not_leak_into_responses(signed_in, monkeypatch):
    from django.db import DataError

    from crm import services

    def broken(**kwargs):
        raise DataError('value too long for type character varying(200) -- SELECT "crm_secret"')

    monkeypatch.setattr(services, "product_create", broken)
    body = gql(signed_in, CREATE_PRODUCT)
    [error] = body["errors"]
    assert error["message"] == "Internal error while resolving this field."
    assert error["path"] == ["createProduct"]
    assert "crm_secret" not in json.dumps(body) and "varying" not in json.dumps(body)


def test_invalid_ids_and_oversized_values_are_clean_errors(signed_in):
    customer = Customer.objects.create(name="Dan", email="dan@example.com")
    query = """mutation($input: OrderInput!) { createOrder(input: $input) { order { id } } }"""
    for order in ({"customerId": "not-a-uuid", "productIds": [str(uuid.uuid4())]},
                  {"customerId": str(customer.pk), "productIds": ["1", "2"]}):
        message = gql(signed_in, query, {"input": order})["errors"][0]["message"]
        assert message.startswith("Invalid"), message
    product = """mutation($input: ProductInput!) { createProduct(input: $input) {
      product { id } } }"""
    for bad in ({"name": "x" * 300, "price": "1"}, {"name": "X", "price": "1e20"}):
        message = gql(signed_in, product, {"input": bad})["errors"][0]["message"]
        assert "Internal" not in message and ("longer" in message or "at most" in message)
    rows = [{"name": f"C{i}", "email": f"c{i}@x.dev"} for i in range(101)]
    message = gql(signed_in, """mutation($input: [CustomerInput!]!) {
        bulkCreateCustomers(input: $input) { errors } }""", {"input": rows})["errors"][0]
    assert "At most 100" in message["message"]


def test_graphiql_introspection_still_passes(client):
    from graphql import get_introspection_query

    body = gql(client, get_introspection_query(descriptions=True))
    assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"
