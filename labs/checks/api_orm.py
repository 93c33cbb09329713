"""Lesson 2 checks: middleware, signals and ORM work, observed through the API.

Query counts come from the app's `X-DB-Query-Count` response header (core/querycount.py),
so an N+1 problem is visible from outside: the count grows with the rows listed.
"""

from __future__ import annotations

from labs.checks.core import CheckContext, CheckFailed, register
from labs.checks.http import (
    Api,
    api,
    client_ip,
    query_count,
    require_max_age,
    results,
    send_message,
    sign_up,
    start_conversation,
    two_in_a_conversation,
)

LESSON = 2
POST_LIMIT = 5  # LAB_POST_RATE_LIMIT in the lab's lesson 2 config
MAX_POSTS = 40  # enough to pass the limit however many API workers share the count


@register(LESSON, "signals.notification", "A new message notifies the other participants",
          "a post_save receiver on Message (created=True) creates a Notification for every "
          "participant except the sender; connect it in ChatsConfig.ready()")
def notification(ctx: CheckContext) -> str:
    client = api(ctx)
    alice, bob, cid = two_in_a_conversation(client)
    sent = send_message(client, alice, cid, "Are you coming tonight?")
    mine = results(client.as_user(bob.token).get("/api/notifications/").expect(
        200, doing="Bob lists his notifications (GET /api/notifications/)"))
    about = [n for n in mine if str(n.get("message")) == str(sent["message_id"])]
    if not about:
        raise CheckFailed("Bob has no notification about Alice's new message")
    own = results(client.as_user(alice.token).get("/api/notifications/").expect(
        200, doing="Alice lists her notifications"))
    if own:
        raise CheckFailed("the sender was notified of her own message")
    return "Bob notified of Alice's message; Alice not"


@register(LESSON, "signals.edit-history", "Editing a message keeps its history",
          "a pre_save receiver on Message stores the old body in MessageHistory and sets "
          "edited=True before an existing message is saved")
def edit_history(ctx: CheckContext) -> str:
    client = api(ctx)
    alice, bob, cid = two_in_a_conversation(client)
    sent = send_message(client, alice, cid, "See you at 7")
    path = f"/api/conversations/{cid}/messages/{sent['message_id']}/"
    edited = client.as_user(alice.token).patch(path, {"body": "See you at 8"}).expect(
        200, doing="Alice edits her message (PATCH)")
    if edited.get("edited") is not True:
        raise CheckFailed(f"after an edit the message says edited={edited.get('edited')!r}")
    history = client.as_user(bob.token).get(path + "history/").expect(
        200, doing="read the message's history")
    olds = [h.get("old_body") for h in results(history)]
    if "See you at 7" not in olds:
        raise CheckFailed(f"the history holds {olds}, not the old body 'See you at 7'")
    return "edited=true; the old body is in the history"


@register(LESSON, "orm.unread-manager", "Unread messages: only others', only unread",
          "Message.unread.unread_for_user(user): messages in the user's conversations, not "
          "sent by them, read=False, loading only the fields shown (.only())")
def unread(ctx: CheckContext) -> str:
    client = api(ctx)
    alice, bob, cid = two_in_a_conversation(client)
    from_alice = send_message(client, alice, cid, "unread for Bob")
    send_message(client, bob, cid, "Bob's own message")
    as_bob = client.as_user(bob.token)

    def unread_ids() -> list[str]:
        return [str(m["message_id"]) for m in results(as_bob.get("/api/messages/unread/")
                                                      .expect(200, doing="Bob's unread list"))]

    ids = unread_ids()
    if ids != [str(from_alice["message_id"])]:
        raise CheckFailed(f"Bob's unread list has {len(ids)} message(s); it should hold only "
                          "Alice's message (not his own)")
    as_bob.post(f"/api/conversations/{cid}/messages/mark-read/").expect(
        200, doing="mark the conversation read")
    if unread_ids():
        raise CheckFailed("messages marked read are still listed as unread")
    return "lists only others' unread messages; empty once read"


def _messages_queries(client: Api, token: str, cid: str) -> int:
    reply = client.as_user(token).get(f"/api/conversations/{cid}/messages/")
    reply.expect(200, doing="list the messages")
    return query_count(reply)


@register(LESSON, "orm.no-n-plus-one", "Listing messages costs the same queries for 1 or 15",
          "the messages selector must load each message's sender in the same query "
          "(select_related('sender')); watch the X-DB-Query-Count response header")
def no_n_plus_one(ctx: CheckContext) -> str:
    client = api(ctx)
    people = [sign_up(client, label=f"p{i}") for i in range(3)]
    small = start_conversation(client, people[0], people[1])
    send_message(client, people[0], small, "only one")
    big = start_conversation(client, people[0], people[1], people[2])
    for i in range(15):
        send_message(client, people[i % 3], big, f"message {i}")
    one = _messages_queries(client, people[0].token, small)
    many = _messages_queries(client, people[0].token, big)
    if many > one:
        raise CheckFailed(f"1 message: {one} queries; 15 messages: {many} queries (N+1)")
    return f"{one} queries for 1 message, {many} for 15"


@register(LESSON, "cache.conversations", "The conversation list is cached for 60 s",
          "decorate ConversationViewSet.list with cache_page(60) (and vary on Authorization "
          "so users never see each other's lists)")
def cached_list(ctx: CheckContext) -> str:
    client = api(ctx)
    user = sign_up(client, label="cache")
    reply = client.as_user(user.token).get("/api/conversations/")
    reply.expect(200, doing="list conversations")
    control = require_max_age(reply, 60)
    if "authorization" not in reply.headers.get("Vary", "").lower():
        raise CheckFailed("the cached list does not vary on Authorization: one user's list "
                          "could be served to another")
    return f"Cache-Control: {control}; Vary: {reply.headers.get('Vary')}"


@register(LESSON, "middleware.rate-limit", f"At most {POST_LIMIT} POSTs a minute per client",
          "PostRateLimitMiddleware counts POSTs per client IP (X-Forwarded-For first) in the "
          "cache and answers 429 once the count passes LAB_POST_RATE_LIMIT within a minute")
def rate_limit(ctx: CheckContext) -> str:
    client = api(ctx)
    alice, bob, cid = two_in_a_conversation(client)
    # One new client address for all the POSTs: its count starts at zero.
    sender = Api(client.base_url, alice.token, ip=client_ip())
    statuses = []
    for i in range(MAX_POSTS):
        reply = sender.post(f"/api/conversations/{cid}/messages/", {"body": f"spam {i}"})
        statuses.append(reply.status)
        if reply.status == 429:
            break
    if 429 not in statuses:
        raise CheckFailed(f"{MAX_POSTS} POSTs from one client within a minute: none got 429")
    first = statuses.index(429)
    if first < POST_LIMIT or any(s != 201 for s in statuses[:POST_LIMIT]):
        raise CheckFailed(f"the first {POST_LIMIT} POSTs should pass; got {statuses}")
    return f"POST #{first + 1} answered 429"


@register(LESSON, "middleware.role-permission", "Only admins and moderators reach /admin/",
          "RolePermissionMiddleware answers 403 on LAB_PROTECTED_PATH_PREFIXES (/admin/, "
          "/api/admin/) unless the user's role is admin or moderator; /admin/login/ stays open")
def role_permission(ctx: CheckContext) -> str:
    client = api(ctx)
    guest = client.as_user(sign_up(client, label="guest").token)
    reply = guest.get("/admin/")
    if reply.status != 403:
        raise CheckFailed(f"a guest's GET /admin/ answered {reply.status}, not 403")
    login = client.get("/admin/login/")
    if login.status != 200:
        raise CheckFailed(f"/admin/login/ answered {login.status}: it must stay reachable")
    return "guest → 403 on /admin/; /admin/login/ open"
