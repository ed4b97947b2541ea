"""A faithful SocialHub (API2, seed 002) for the demo, the tests and the benchmarks.

Run like the Hootsuite sandbox (`empause sandbox --platform socialhub --seed demo`), on
127.0.0.1, from an in-memory world. Where the spec is silent or the sandbox has to choose:

- Routes answer at the root and under upstream's basePath `/api2` alike, so a client
  configured with `https://app.socialhub.io/api2` works with `http://127.0.0.1:P/api2`.
- Auth is the `?accesstoken=` query parameter only; a missing or unknown token is 401
  `AccessTokenInvalid`. Tokens are per user and fixed by the seed (API tokens are
  long-lived); /_sandbox/state's `demo` lists them.
- Errors are `{code, message}` (codes: BadRequest, AccessTokenInvalid,
  InsufficientPermissions, NotFound, MethodNotAllowed, Conflict, TooManyRequests,
  InternalServerError, ServiceUnavailable); validation errors are
  `{code: "ValidationError", message, errors: {field: [reason]}}` with the spec's reasons
  (publishTimeNotInFuture, requireTextLinkImageOrVideo, twitterTweetCharacterCountTooBig).
- Status transitions (anything else is 409 Conflict): unschedule scheduled -> draft;
  schedule preDraft/draft/failedToPublish -> scheduled (needs a publishTime, 409 without
  one, 400 publishTimeNotInFuture if past, and content); suggest draft/failedToPublish ->
  needsApproval (preDraft is 409, as the spec says; the group's suggest takes preDraft);
  approve needsApproval -> scheduled; reject needsApproval -> draft (needsAttention set,
  assigned to the suggestion author, optional `message`). PATCH of a publishing/published
  post is 409; PATCH with a publishTime not in the future is 400 ValidationError; a
  scheduled post cannot lose its publishTime (409). DELETE is for preDraft posts only (409).
  A user may have one post group in preDraft at a time (409 for a second, as the spec says).
- Permissions by role: ADMIN and SMM may publish, approve and reject; EDITOR (the demo's
  staff) may edit and suggest only (schedule is 403), so staff posts need approval.
- Visibility: a user sees posts on their teams' channels (an ADMIN all the account's);
  others are 404 like unknown ones. `postGroupId` lists a group's posts whatever the channel.
- GET/POST /cp/posts: `count` 1..100 (default 25), `offset` >= 0; array filters accept
  `status=a&status=b`, `status[]=a`, `status[0]=a` and `status=a,b`; `since`/`until` are both
  inclusive on the `sortBy` field; ties sort by creation order; with sortBy=publishTime and
  no since/until, posts without a publishTime come last. The answer is `{count, data}`.
- There is no GET of one post upstream: read a post back through `postGroupId`.
- Times are returned in UTC to the millisecond (`...T10:00:00.000Z`).
- The publisher publishes due scheduled posts on the sandbox clock (never earlier), and logs
  each in /_sandbox/state's `published`. No webhooks (SocialHub sends none for posts).
- Rate limit: per user, fixed one-second windows of wall-clock time, 429 `TooManyRequests`
  past it; no rate-limit headers (none are documented). Faults (latency, 5xx, timeouts,
  lost responses) and the clock are the Hootsuite sandbox's, keyed by "METHOD /template".
- Without `--seed` the world is still the demo account, but /_sandbox/ answers 404.
"""
