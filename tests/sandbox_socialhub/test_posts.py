"""Posts: the post-group flow, status transitions (409 where the status does not allow one),
validation and its ValidationError shape, visibility, permissions and the publisher."""

from __future__ import annotations

from datetime import timedelta

from empause.sandbox.socialhub import seed

from .conftest import error, ms, now


def test_a_post_is_made_through_a_post_group(staff, em, control):
    created = staff("POST", "/cp/postGroups", json={"channelIds": [seed.FACEBOOK_CHANNEL_ID]})
    assert created.status_code == 201
    group = created.json()
    assert set(group) == {"_id", "accountId"} and group["accountId"] == seed.ACCOUNT_ID
    # One preDraft group per user at a time, as the spec says.
    error(staff("POST", "/cp/postGroups", json={"channelIds": [seed.FACEBOOK_CHANNEL_ID]}),
          409, "Conflict")  # fmt: skip
    assert staff("GET", "/cp/postGroups/preDraft").json() == group  # the working group
    error(em("GET", "/cp/postGroups/preDraft"), 404, "NotFound")
    (post,) = control.group_posts(staff.token, group["_id"])
    assert post["status"] == "preDraft" and post["author"] == seed.STAFF_USER_ID
    assert len(post["_id"]) == 24 and post["postGroupId"] == group["_id"]
    when = now(control) + timedelta(hours=2)
    patched = staff("PATCH", f"/cp/posts/{post['_id']}",
                    json={"content": {"text": "Storm drill at noon"}, "publishTime": ms(when)})
    assert patched.status_code == 200 and patched.json()["content"]["text"] == "Storm drill at noon"
    assert patched.json()["publishTime"] == ms(when)
    # Staff (EDITOR) may not publish: schedule is 403, suggest sends it for approval.
    error(staff("POST", f"/cp/postGroups/{group['_id']}/schedule"), 403,
          "InsufficientPermissions")  # fmt: skip
    assert staff("POST", f"/cp/postGroups/{group['_id']}/suggest").status_code == 200
    (waiting,) = control.group_posts(staff.token, group["_id"])
    assert waiting["status"] == "needsApproval"
    assert waiting["suggestionAuthor"] == seed.STAFF_USER_ID
    # The EM member schedules directly.
    mine = em.post("EM update", in_hours=3)
    assert mine["status"] == "scheduled" and mine["author"] == seed.EM_USER_ID


def test_transitions_the_status_does_not_allow_are_409(em, admin, staff):
    post = staff.post("needs a look", then="suggest")
    pid = post["_id"]
    error(admin("POST", f"/cp/posts/{pid}/unschedule"), 409, "Conflict")  # not scheduled
    error(admin("POST", f"/cp/posts/{pid}/schedule"), 409, "Conflict")  # awaiting approval
    error(staff("POST", f"/cp/posts/{pid}/suggest"), 409, "Conflict")  # already suggested
    approved = admin("POST", f"/cp/posts/{pid}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "scheduled"
    error(admin("POST", f"/cp/posts/{pid}/approve"), 409, "Conflict")
    error(admin("POST", f"/cp/posts/{pid}/reject"), 409, "Conflict")
    drafted = admin("POST", f"/cp/posts/{pid}/unschedule")
    assert drafted.status_code == 200 and drafted.json()["status"] == "draft"
    assert drafted.json()["_id"] == pid and drafted.json()["content"] == approved.json()["content"]
    error(admin("POST", f"/cp/posts/{pid}/unschedule"), 409, "Conflict")
    rescheduled = admin("POST", f"/cp/posts/{pid}/schedule")
    assert rescheduled.status_code == 200 and rescheduled.json()["status"] == "scheduled"
    error(admin("DELETE", f"/cp/posts/{pid}"), 409, "Conflict")  # DELETE is for preDraft only
    error(staff("POST", f"/cp/posts/{pid}/unschedule"), 403, "InsufficientPermissions")


def test_reject_returns_the_post_to_its_author_with_a_message(admin, staff):
    pid = staff.post("too soon", then="suggest")["_id"]
    error(admin("POST", f"/cp/posts/{pid}/reject", json={"message": ""}), 400, "BadRequest")
    rejected = admin("POST", f"/cp/posts/{pid}/reject", json={"message": "Not during the storm"})
    assert rejected.status_code == 200
    body = rejected.json()
    assert body["status"] == "draft" and body["flags"]["needsAttention"] is True
    assert body["assignee"] == seed.STAFF_USER_ID
    assert staff("POST", f"/cp/posts/{pid}/suggest").json()["status"] == "needsApproval"


def test_moving_a_scheduled_post_in_place(em, admin, control):
    post = em.post("move me", in_hours=1, images=[{"id": "b" * 24, "altText": "map"}])
    later = now(control) + timedelta(days=7)
    moved = admin("PATCH", f"/cp/posts/{post['_id']}", json={"publishTime": ms(later)})
    assert moved.status_code == 200
    body = moved.json()
    assert body["_id"] == post["_id"] and body["status"] == "scheduled"
    assert body["publishTime"] == ms(later) and body["content"] == post["content"]
    state = {p["_id"]: p for p in control.state()["posts"]}[post["_id"]]
    assert state["history"][-1]["action"] == "updated"
    assert state["history"][-1]["fields"] == ["publishTime"]


def test_validation_errors(em, admin, control):
    pid = em.post("validate me")["_id"]
    past = error(admin("PATCH", f"/cp/posts/{pid}", json={"publishTime": "2001-01-01T00:00:00Z"}),
                 400, "ValidationError")  # fmt: skip
    assert past["errors"] == {"publishTime": ["publishTimeNotInFuture"]}
    error(admin("PATCH", f"/cp/posts/{pid}", json={"publishTime": "next tuesday"}), 400,
          "BadRequest")  # fmt: skip
    error(admin("PATCH", f"/cp/posts/{pid}", json={"publishTime": "2031-01-01T00:00:00"}), 400,
          "BadRequest")  # no timezone: ambiguous  # fmt: skip
    error(admin("PATCH", f"/cp/posts/{pid}", json={"publishTime": None}), 409, "Conflict")
    error(admin("PATCH", f"/cp/posts/{pid}", json={"colour": "red"}), 400, "BadRequest")
    error(admin("PATCH", f"/cp/posts/{pid}", content=b"{"), 400, "BadRequest")
    error(admin("PATCH", f"/cp/posts/{pid}", json={"content": {"images": "x"}}), 400,
          "BadRequest")  # fmt: skip
    tweet = em.post("short", channel=seed.TWITTER_CHANNEL_ID)["_id"]
    long = error(admin("PATCH", f"/cp/posts/{tweet}", json={"content": {"text": "x" * 281}}),
                 400, "ValidationError")  # fmt: skip
    assert long["errors"] == {"content.text": ["twitterTweetCharacterCountTooBig"]}
    # Read-only keys sent back with a post are ignored, as the spec says of `_id`.
    assert admin("PATCH", f"/cp/posts/{pid}", json={"_id": "f" * 24, "status": "draft"}
                 ).json()["status"] == "scheduled"  # fmt: skip


def test_scheduling_needs_a_time_in_the_future_and_content(em, control):
    group = em("POST", "/cp/postGroups", json={"channelIds": [seed.FACEBOOK_CHANNEL_ID]}).json()
    (post,) = control.group_posts(em.token, group["_id"])
    error(em("POST", f"/cp/postGroups/{group['_id']}/schedule"), 409, "Conflict")  # no time
    em("PATCH", f"/cp/posts/{post['_id']}",
       json={"publishTime": ms(now(control) + timedelta(hours=1))})  # fmt: skip
    empty = error(em("POST", f"/cp/postGroups/{group['_id']}/schedule"), 400, "ValidationError")
    assert empty["errors"] == {"content": ["requireTextLinkImageOrVideo"]}
    em("PATCH", f"/cp/posts/{post['_id']}", json={"content": {"text": "now with text"}})
    assert em("POST", f"/cp/postGroups/{group['_id']}/saveAsDraft").status_code == 200
    control.clock(advance_seconds=7200)  # its time passes while it is a draft
    late = error(em("POST", f"/cp/posts/{post['_id']}/schedule"), 400, "ValidationError")
    assert late["errors"] == {"publishTime": ["publishTimeNotInFuture"]}


def test_delete_is_for_pre_drafts_only(em, control):
    group = em("POST", "/cp/postGroups", json={"channelIds": [seed.FACEBOOK_CHANNEL_ID,
                                                             seed.TWITTER_CHANNEL_ID]}).json()
    posts = control.group_posts(em.token, group["_id"])
    assert len(posts) == 2 and {p["status"] for p in posts} == {"preDraft"}
    assert em("DELETE", f"/cp/posts/{posts[0]['_id']}").status_code == 204
    assert [p["_id"] for p in control.group_posts(em.token, group["_id"])] == [posts[1]["_id"]]
    assert em("DELETE", f"/cp/postGroups/{group['_id']}").status_code == 204
    assert control.group_posts(em.token, group["_id"]) == []
    error(em("DELETE", f"/cp/postGroups/{group['_id']}"), 404, "NotFound")
    error(em("DELETE", "/cp/postGroups/not-an-id"), 400, "BadRequest")
    error(em("DELETE", f"/cp/posts/{'0' * 24}"), 404, "NotFound")


def test_members_see_their_teams_channels_only(staff, em, control):
    pins = em.post("pins only", channel=seed.PINTEREST_CHANNEL_ID)  # not a staff channel
    error(staff("PATCH", f"/cp/posts/{pins['_id']}", json={"content": {"text": "x"}}), 404,
          "NotFound")  # fmt: skip
    seen = staff("GET", "/cp/posts", params={"count": 100, "channelIds[]": seed.PINTEREST_CHANNEL_ID})
    assert seen.json() == {"count": 0, "data": []}
    error(staff("POST", "/cp/postGroups", json={"channelIds": [seed.PINTEREST_CHANNEL_ID]}), 404,
          "NotFound")  # fmt: skip
    control.set_teams(seed.STAFF_USER_ID, [seed.STAFF_TEAM_ID, seed.EM_TEAM_ID])
    assert staff("PATCH", f"/cp/posts/{pins['_id']}", json={"content": {"text": "x"}}
                 ).status_code == 200  # fmt: skip


def test_the_publisher_publishes_due_posts_by_the_clock(em, staff, control):
    control.reset(posts=0)  # only this test's posts
    scheduled = em.post("goes out", in_hours=1)
    waiting = staff.post("waits for approval", in_hours=1, then="suggest")
    control.clock(advance_seconds=3590)
    assert control.state()["published"] == []
    control.clock(advance_seconds=20)
    state = control.state()
    assert [p["_id"] for p in state["published"]] == [scheduled["_id"]]
    entry = state["published"][0]
    assert entry["text"] == "goes out" and entry["channel"] == seed.FACEBOOK_CHANNEL_ID
    assert entry["author"] == seed.EM_USER_ID and entry["publishTime"] == scheduled["publishTime"]
    posts = {p["_id"]: p for p in state["posts"]}
    assert posts[scheduled["_id"]]["status"] == "published"
    assert posts[scheduled["_id"]]["networkUrl"].startswith("https://")
    assert posts[waiting["_id"]]["status"] == "needsApproval"  # never published unapproved
    error(em("PATCH", f"/cp/posts/{scheduled['_id']}", json={"content": {"text": "edit"}}), 409,
          "Conflict")  # a published post can no longer change  # fmt: skip
