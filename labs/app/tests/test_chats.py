from datetime import timedelta

import pytest
from django.utils import timezone

from chats.models import Conversation, Message, MessageHistory, Notification
from chats.services import conversation_create, message_create, message_edit

pytestmark = pytest.mark.django_db


@pytest.fixture
def trio(make_user):
    return make_user("guest"), make_user("host"), make_user("guest")


@pytest.fixture
def conversation(trio):
    alice, bob, _ = trio
    return conversation_create(creator=alice, participants=[bob])


def url(conversation, suffix=""):
    return f"/api/conversations/{conversation.pk}/messages/{suffix}"


def test_anonymous_is_refused(api, conversation):
    assert api(None).get("/api/conversations/").status_code == 401
    assert api(None).get(url(conversation)).status_code == 401


def test_create_conversation_and_send_message(api, trio):
    alice, bob, _ = trio
    response = api(alice).post("/api/conversations/", {"participant_ids": [str(bob.pk)]},
                               format="json")
    assert response.status_code == 201
    emails = {p["email"] for p in response.json()["participants"]}
    assert emails == {alice.email, bob.email}
    conversation_id = response.json()["conversation_id"]
    sent = api(bob).post(f"/api/conversations/{conversation_id}/messages/",
                         {"body": "Hi Alice"}, format="json")
    assert sent.status_code == 201
    assert sent.json()["sender"]["email"] == bob.email


def test_only_participants_read_or_write(api, trio, conversation):
    _, _, carol = trio
    assert api(carol).get(url(conversation)).status_code == 403
    assert api(carol).post(url(conversation), {"body": "let me in"},
                           format="json").status_code == 403
    assert api(carol).get(f"/api/conversations/{conversation.pk}/").status_code == 404
    listed = api(carol).get("/api/conversations/").json()
    assert listed["count"] == 0


def test_only_the_sender_edits_or_deletes(api, trio, conversation):
    alice, bob, _ = trio
    message = message_create(conversation=conversation, sender=alice, body="original")
    assert api(bob).patch(url(conversation, f"{message.pk}/"), {"body": "hacked"},
                          format="json").status_code == 403
    assert api(bob).delete(url(conversation, f"{message.pk}/")).status_code == 403
    edited = api(alice).patch(url(conversation, f"{message.pk}/"), {"body": "fixed"},
                              format="json")
    assert edited.status_code == 200 and edited.json()["edited"] is True
    assert api(alice).delete(url(conversation, f"{message.pk}/")).status_code == 204


def test_messages_are_paginated_by_20(api, trio, conversation):
    alice, _, _ = trio
    Message.objects.bulk_create(Message(conversation=conversation, sender=alice, body=f"m{i}")
                                for i in range(45))
    first = api(alice).get(url(conversation)).json()
    assert first["count"] == 45 and len(first["results"]) == 20 and first["next"]
    last = api(alice).get(url(conversation), {"page": 3}).json()
    assert len(last["results"]) == 5 and last["next"] is None


def test_filter_messages_by_participant_and_time(api, trio, conversation):
    alice, bob, _ = trio
    old = message_create(conversation=conversation, sender=alice, body="old")
    Message.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=3))
    message_create(conversation=conversation, sender=bob, body="new from bob")
    message_create(conversation=conversation, sender=alice, body="new from alice")

    by_bob = api(alice).get(url(conversation), {"participant": str(bob.pk)}).json()
    assert [m["body"] for m in by_bob["results"]] == ["new from bob"]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    recent = api(alice).get(url(conversation), {"sent_after": since}).json()
    assert {m["body"] for m in recent["results"]} == {"new from bob", "new from alice"}
    until = (timezone.now() - timedelta(days=2)).isoformat()
    older = api(alice).get(url(conversation), {"sent_before": until}).json()
    assert [m["body"] for m in older["results"]] == ["old"]


def test_filter_conversations_by_participant(api, trio):
    alice, bob, carol = trio
    conversation_create(creator=alice, participants=[bob])
    with_carol = conversation_create(creator=alice, participants=[carol])
    found = api(alice).get("/api/conversations/", {"participant": str(carol.pk)}).json()
    assert [c["conversation_id"] for c in found["results"]] == [str(with_carol.pk)]


def test_message_list_query_count_is_constant(api, trio, conversation,
                                              django_assert_max_num_queries):
    alice, bob, _ = trio
    Message.objects.bulk_create(
        Message(conversation=conversation, sender=alice if i % 2 else bob, body=f"m{i}")
        for i in range(20))
    client = api(alice)
    # auth user, conversation with the participant check, count, page (senders joined)
    with django_assert_max_num_queries(4):
        response = client.get(url(conversation))
    assert len(response.json()["results"]) == 20


def test_conversation_list_query_count_is_constant(api, make_user,
                                                   django_assert_max_num_queries):
    me = make_user("guest")
    for _ in range(15):
        conversation_create(creator=me, participants=[make_user("host"), make_user("guest")])
    client = api(me)
    # auth user, count, page, participants prefetch
    with django_assert_max_num_queries(4):
        response = client.get("/api/conversations/")
    assert len(response.json()["results"]) == 15


def test_conversation_list_is_cached_per_user(api, trio):
    alice, bob, carol = trio
    client = api(alice)
    assert client.get("/api/conversations/").json()["count"] == 0
    conversation_create(creator=alice, participants=[bob])
    assert client.get("/api/conversations/").json()["count"] == 0  # cache_page(60)
    assert api(bob).get("/api/conversations/").json()["count"] == 1  # not alice's cache


def test_threaded_replies(api, trio, conversation):
    alice, bob, _ = trio
    root = message_create(conversation=conversation, sender=alice, body="root")
    reply = message_create(conversation=conversation, sender=bob, body="reply",
                           parent_message=root)
    message_create(conversation=conversation, sender=alice, body="reply to reply",
                   parent_message=reply)
    sent = api(bob).post(url(conversation), {"body": "via api", "parent_message": str(root.pk)},
                         format="json")
    assert sent.json()["parent_message"] == str(root.pk)
    thread = api(alice).get(url(conversation, f"{root.pk}/thread/")).json()
    assert [r["body"] for r in thread["replies"]] == ["reply", "via api"]
    assert thread["replies"][0]["replies"][0]["body"] == "reply to reply"


def test_new_message_notifies_the_other_participants(trio):
    alice, bob, carol = trio
    conversation = conversation_create(creator=alice, participants=[bob, carol])
    message = message_create(conversation=conversation, sender=alice, body="hello all")
    notified = set(Notification.objects.filter(message=message).values_list("user", flat=True))
    assert notified == {bob.pk, carol.pk}


def test_edit_keeps_history_and_sets_edited(trio, conversation):
    alice, _, _ = trio
    message = message_create(conversation=conversation, sender=alice, body="first")
    message_edit(message=message, body="second", editor=alice)
    message_edit(message=message, body="third", editor=alice)
    message.refresh_from_db()
    assert message.edited and message.body == "third"
    assert list(MessageHistory.objects.filter(message=message)
                .order_by("edited_at").values_list("old_body", flat=True)) == ["first", "second"]


def test_deleting_a_user_removes_their_messages_notifications_and_histories(trio):
    alice, bob, _ = trio
    conversation = conversation_create(creator=alice, participants=[bob])
    mine = message_create(conversation=conversation, sender=alice, body="mine")
    message_edit(message=mine, body="mine, edited", editor=alice)
    message_create(conversation=conversation, sender=bob, body="to alice")
    alone = conversation_create(creator=alice, participants=[])
    alice.delete()
    assert not Message.objects.filter(sender_id=alice.pk).exists()
    assert not Notification.objects.filter(user_id=alice.pk).exists()
    assert not MessageHistory.objects.filter(message_id=mine.pk).exists()
    assert not Conversation.objects.filter(pk=alone.pk).exists()
    assert Message.objects.filter(sender=bob).count() == 1


def test_unread_manager_and_endpoint(api, trio, conversation, django_assert_max_num_queries):
    alice, bob, _ = trio
    for i in range(3):
        message_create(conversation=conversation, sender=bob, body=f"unread {i}")
    message_create(conversation=conversation, sender=alice, body="my own")
    unread = list(Message.unread.unread_for_user(alice))
    assert len(unread) == 3
    assert "body" not in unread[0].get_deferred_fields()
    assert "edited" in unread[0].get_deferred_fields()  # .only() keeps the row small
    client = api(alice)
    with django_assert_max_num_queries(3):
        response = client.get("/api/messages/unread/")
    assert response.json()["count"] == 3
    assert api(alice).post(url(conversation, "mark-read/")).json() == {"marked_read": 3}
    assert Message.unread.unread_for_user(alice).count() == 0


def test_notifications_endpoint_lists_only_mine(api, trio, conversation):
    alice, bob, _ = trio
    message = message_create(conversation=conversation, sender=alice, body="ping")
    mine = api(bob).get("/api/notifications/").json()["results"]
    assert [n["message"] for n in mine] == [str(message.pk)]
    assert api(alice).get("/api/notifications/").json()["count"] == 0
    assert api(None).get("/api/notifications/").status_code == 401


def test_history_endpoint_shows_earlier_bodies(api, trio, conversation):
    alice, bob, _ = trio
    message = message_create(conversation=conversation, sender=alice, body="v1")
    message_edit(message=message, editor=alice, body="v2")
    history = api(bob).get(url(conversation, f"{message.pk}/history/")).json()
    assert [(h["old_body"], h["edited_by"]) for h in history] == [("v1", alice.email)]


def test_query_count_header_stays_flat_as_messages_grow(api, trio, conversation):
    alice, bob, _ = trio
    message_create(conversation=conversation, sender=alice, body="one")
    api(bob).get(url(conversation))  # bob's user is loaded once, then kept (core/auth.py)
    one = int(api(bob).get(url(conversation))["X-DB-Query-Count"])
    for i in range(10):
        message_create(conversation=conversation, sender=(alice, bob)[i % 2], body=str(i))
    many = int(api(bob).get(url(conversation))["X-DB-Query-Count"])
    assert one == many > 0


def test_messages_of_an_unknown_conversation_are_a_404(api, trio, conversation):
    alice, _, _ = trio
    client = api(alice)
    unknown = client.get("/api/conversations/00000000-0000-4000-8000-000000000000/messages/")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "No Conversation matches the given query."}
    assert client.get("/api/conversations/not-a-uuid/messages/").status_code == 404
    assert client.get(url(conversation)).status_code == 200
