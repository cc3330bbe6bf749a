"""`release-bot verify`: prove that what a store's index.json lists is what a buildpack gets.

Layout: `reader` (public URLs read anonymously and streamed: http(s) through the shared
`bot.http.HttpClient`, file:// from disk), `checks` (pure: what each
download, sidecar and manifest says against the index entry), `runner` (read the index,
check every entry on a bounded pool, collect the results); for reporting, `table` (the result
table) and, for `--report-issue`, `issue` (pure: the issue's text and the plan) and
`issue_runner` (carries the plan out through the forge's `IssueTracker`).

It is read-only by construction: it is handed the store's naming (`url`, `public_url`) and
an HTTP reader, never the store's write operations. (The issue is the only thing it writes,
and only on GitHub.)
"""
