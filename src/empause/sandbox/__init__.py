"""Faithful emulators of the platforms' APIs, for the demo, the tests and the benchmarks.

The Hootsuite sandbox (`empause.sandbox.server`) serves the subset of the official REST API
that an emergency-pause app needs, on 127.0.0.1, from an in-memory world. Where the spec is
silent or the sandbox has to choose, it chooses as follows:

- Messages created with an organization-app token have no `createdByMember` (the field is
  absent in the API and None in /_sandbox/state); their history actor is SYSTEM/org id.
- `scheduledSendTime` must end in `Z` and lie in the future (sandbox clock); it is stored at
  whole-second precision. Omitting it means "send now": the message is due at once and the
  publisher sends it on its next tick (or it waits for approval).
- `GET /v1/messages` returns non-deleted messages of every state with
  startTime <= scheduledSendTime < endTime (end exclusive, so consecutive windows never
  overlap); the window may be at most 28 days (40020). Cursors are
  "<sendTimeMs>:<messageId>:<0 next|1 previous>" and survive deletions. `metadata.cursor`
  is always present; `next`/`previous` are null when there is no such page (as the spec's
  prose says, although its schema types them as strings).
- Visibility: an organization token sees every message on the organization's profiles; a
  member token sees messages on the profiles of their teams (all profiles for an org admin)
  plus the messages they created. Invisible messages are 404 (code 4001), like unknown ones.
- Approval: members flagged `needs_approval` create PENDING_APPROVAL messages with
  `sequenceNumber` 1 and the org admins as reviewers. Approve emits APPROVED and the message
  becomes SCHEDULED (published at its time, or on the next tick if that time has passed).
- Deleting a SENT message is 400/40003; deleting an unknown or deleted message is 404/4001.
  A successful delete answers `{"data": []}` (the spec's DeleteMessageResponseEnvelope).
- Refresh tokens are issued only by the authorization_code grant with scope `offline`, and
  by the refresh_token grant itself (rotation). member_app, organization_app and
  client_credentials return access tokens only. A client_credentials token is an app token
  with no member or organization: /v1 endpoints answer 403/4009 to it.
- Token expiry, authorization-code expiry and the publisher follow the sandbox clock, so
  advancing the clock past a token's lifetime expires it (as waiting would upstream).
- Rate limits follow wall-clock one-second windows per account (member or organization
  behind the token); refused calls do not count towards the daily quota. The X-Account-*
  headers are on every authenticated /v1 response (a 401 has no account, so none).
- Webhooks are delivered only to loopback URLs (the sandbox never leaves the machine);
  other URLs still consume a seq_no and are counted as skipped in /_sandbox/state.
  Retries: 5 after the first attempt (0.1 s to 4 s apart), in order, per URL.
- Faults: a timeout holds the request for `hang_seconds` without applying it, then drops the
  connection; a lost response applies the operation, then sends headers and half a body and
  drops the connection. Injected 5xx are 503 with the errors envelope (code 5000).
- Without `--seed` the world is still the demo organization, but /_sandbox/ answers 404.
- With `--seed`, `/` is a page for people (not part of Hootsuite's API): the planner of one
  organization's messages by day and profile, refreshing itself from
  /_sandbox/planner.json, and a form (POST /_sandbox/compose) that posts as any member
  through POST /v1/messages's own rules (approval, history, webhooks).
"""
