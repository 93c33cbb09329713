"""Lesson 1 checks: the REST and GraphQL APIs answer as the exercise asks, seen as a client.

Every check signs up its own users, so it can run any number of times on the same lab.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from labs.checks.core import CheckContext, CheckFailed, register
from labs.checks.http import (
    api,
    book,
    host_listing,
    results,
    send_message,
    sign_up,
    start_conversation,
    two_in_a_conversation,
)

LESSON = 1
PAGE_SIZE = 20


@register(LESSON, "api.jwt", "JWT sign-in protects the API",
          "POST /api/auth/token/ (simplejwt) must return access + refresh tokens, and the API "
          "must answer 401 to a request without a token")
def jwt(ctx: CheckContext) -> str:
    client = api(ctx)
    anonymous = client.get("/api/conversations/")
    if anonymous.status != 401:
        raise CheckFailed(f"GET /api/conversations/ without a token answered {anonymous.status}, "
                          "not 401")
    user = sign_up(client)
    return f"token issued for {user.email}; anonymous requests get 401"


@register(LESSON, "api.conversations-private", "Only participants see a conversation",
          "filter the ConversationViewSet queryset by request.user and use "
          "IsParticipantOfConversation for the messages: outsiders get 403 or 404")
def conversations_private(ctx: CheckContext) -> str:
    client = api(ctx)
    alice, bob, eve = (sign_up(client, label=n) for n in ("alice", "bob", "eve"))
    cid = start_conversation(client, alice, bob)
    send_message(client, alice, cid, "Selam Bob!")
    as_bob = client.as_user(bob.token)
    listed = [str(c["conversation_id"]) for c in
              results(as_bob.get("/api/conversations/").expect(200, doing="list as Bob"))]
    if cid not in listed:
        raise CheckFailed("Bob does not see a conversation he takes part in")
    as_eve = client.as_user(eve.token)
    leaked = [str(c["conversation_id"]) for c in
              results(as_eve.get("/api/conversations/").expect(200, doing="list as Eve"))]
    if cid in leaked:
        raise CheckFailed("Eve (not a participant) sees Alice and Bob's conversation in "
                          "GET /api/conversations/")
    for path in (f"/api/conversations/{cid}/", f"/api/conversations/{cid}/messages/"):
        reply = as_eve.get(path)
        if reply.status not in (403, 404):
            raise CheckFailed(f"Eve (not a participant) gets HTTP {reply.status} from {path}, "
                              "not 403/404")
    return "participants see it; an outsider gets 403/404 and an empty list"


@register(LESSON, "api.messages-nested", f"Nested messages route, {PAGE_SIZE} per page",
          "register MessageViewSet under /api/conversations/{id}/messages/ (drf-nested-routers) "
          f"with a PageNumberPagination of page_size {PAGE_SIZE}")
def messages_nested(ctx: CheckContext) -> str:
    client = api(ctx)
    alice, bob, cid = two_in_a_conversation(client)
    total = PAGE_SIZE + 3
    for i in range(total):
        send_message(client, alice if i % 2 else bob, cid, f"message {i}")
    page = client.as_user(bob.token).get(f"/api/conversations/{cid}/messages/").expect(
        200, doing="list the messages")
    if not isinstance(page, dict) or "results" not in page:
        raise CheckFailed("the messages list is not paginated (no `results`/`count`)")
    if page.get("count") != total or len(page["results"]) != PAGE_SIZE:
        raise CheckFailed(f"{total} messages: the first page holds {len(page['results'])} of "
                          f"count={page.get('count')}; expected {PAGE_SIZE} of {total}")
    if not page.get("next"):
        raise CheckFailed("the first page has no `next` link to the second")
    return f"{total} messages: {PAGE_SIZE} on page 1, `next` links page 2"


@register(LESSON, "api.bookings", "Hosts list places, guests book them",
          "ListingViewSet and BookingViewSet under /api/: a host creates a listing, a guest "
          "books it and sees the booking in GET /api/bookings/ with its total price")
def bookings(ctx: CheckContext) -> str:
    client = api(ctx)
    host, guest = sign_up(client, role="host", label="host"), sign_up(client, label="guest")
    listing = host_listing(client, host, price="1500.00")
    booking = book(client, guest, str(listing["listing_id"]), nights=2)
    if Decimal(str(booking.get("total_price"))) != Decimal("3000.00"):
        raise CheckFailed(f"2 nights at 1500.00 cost {booking.get('total_price')}, not 3000.00")
    mine = [str(b["booking_id"]) for b in results(
        client.as_user(guest.token).get("/api/bookings/").expect(200, doing="list bookings"))]
    if str(booking["booking_id"]) not in mine:
        raise CheckFailed("the guest's booking is missing from GET /api/bookings/")
    return f"listing {listing['listing_id']} booked for 2 nights: 3000.00"


def graphql(ctx: CheckContext, query: str, variables: dict[str, Any] | None = None,
            token: str | None = None) -> dict[str, Any]:
    """POST /graphql; `token` signs the request in (the CRM's mutations need a user)."""
    client = api(ctx) if token is None else api(ctx).as_user(token)
    reply = client.post("/graphql", {"query": query, "variables": variables or {}})
    body = reply.expect(200, 400, doing="POST /graphql")
    if not isinstance(body, dict):
        raise CheckFailed(f"/graphql answered {str(body)[:200]}")
    return body


@register(LESSON, "graphql.hello", "GraphQL answers { hello }",
          'the Query type has a field `hello` resolving to "Hello, GraphQL!"; the endpoint is '
          "/graphql (graphene-django)")
def hello(ctx: CheckContext) -> str:
    body = graphql(ctx, "{ hello }")
    got = (body.get("data") or {}).get("hello")
    if got != "Hello, GraphQL!":
        raise CheckFailed(f"{{ hello }} returned {got!r} (errors: {body.get('errors')})")
    return '{ hello } → "Hello, GraphQL!"'


CREATE_PRODUCT = """mutation($name: String!, $price: Decimal!, $stock: Int) {
  createProduct(input: {name: $name, price: $price, stock: $stock}) { product { id price } }
}"""
CREATE_CUSTOMER = """mutation($name: String!, $email: String!) {
  createCustomer(input: {name: $name, email: $email}) { customer { id } message }
}"""
CREATE_ORDER = """mutation($customer: ID!, $products: [ID!]!) {
  createOrder(input: {customerId: $customer, productIds: $products}) {
    order { id totalAmount }
  }
}"""


def _product(ctx: CheckContext, token: str, price: str, stock: int = 1) -> dict[str, Any]:
    return graphql(ctx, CREATE_PRODUCT, {"name": f"Item {price}", "price": price,
                                         "stock": stock}, token)


@register(LESSON, "graphql.crm", "CRM mutations validate and total orders",
          "CreateProduct refuses a price <= 0 or a negative stock with an error; CreateOrder "
          "sets totalAmount to the sum of its products' prices (mutations need a JWT: "
          "Authorization: Bearer <access>)")
def crm(ctx: CheckContext) -> str:
    import uuid

    token = sign_up(api(ctx), label="crm").token
    bad = _product(ctx, token, "-5.00")
    made = ((bad.get("data") or {}).get("createProduct") or {}).get("product")
    if made or not bad.get("errors"):
        raise CheckFailed("createProduct accepted a price of -5.00 (it must answer an error)")
    ids, prices = [], ("120.50", "79.50")
    for price in prices:
        body = _product(ctx, token, price)
        product = ((body.get("data") or {}).get("createProduct") or {}).get("product")
        if not product:
            raise CheckFailed(f"createProduct failed: {body.get('errors')}")
        ids.append(product["id"])
    customer = graphql(ctx, CREATE_CUSTOMER, {"name": "Lab Check",
                                              "email": f"crm-{uuid.uuid4().hex[:8]}@x.dev"},
                       token)
    cust = ((customer.get("data") or {}).get("createCustomer") or {}).get("customer")
    if not cust:
        raise CheckFailed(f"createCustomer failed: {customer.get('errors')}")
    order = graphql(ctx, CREATE_ORDER, {"customer": cust["id"], "products": ids}, token)
    made_order = ((order.get("data") or {}).get("createOrder") or {}).get("order")
    if not made_order:
        raise CheckFailed(f"createOrder failed: {order.get('errors')}")
    want = sum(Decimal(p) for p in prices)
    if Decimal(str(made_order["totalAmount"])) != want:
        raise CheckFailed(f"an order of {' + '.join(prices)} totals "
                          f"{made_order['totalAmount']}, not {want}")
    return f"price -5.00 refused; order total {want}"
