"""The GitHub REST operations the fake server implements.

Single source of truth for both the server's router and ``extract_subset.py`` (which vendors
exactly these operations out of GitHub's OpenAPI description into ``openapi-subset.json``).
Each entry is ``(METHOD, path template as written in the OpenAPI description)``.
"""

from __future__ import annotations

R = "/repos/{owner}/{repo}"

OPERATIONS: tuple[tuple[str, str], ...] = (
    ("GET", "/user"),
    ("GET", "/rate_limit"),
    ("GET", R),
    ("GET", R + "/branches/{branch}"),
    # git data
    ("GET", R + "/git/ref/{ref}"),
    ("GET", R + "/git/matching-refs/{ref}"),
    ("POST", R + "/git/refs"),
    ("PATCH", R + "/git/refs/{ref}"),
    ("DELETE", R + "/git/refs/{ref}"),
    ("GET", R + "/git/commits/{commit_sha}"),
    ("POST", R + "/git/commits"),
    ("POST", R + "/git/blobs"),
    ("GET", R + "/git/blobs/{file_sha}"),
    ("POST", R + "/git/trees"),
    ("GET", R + "/git/trees/{tree_sha}"),
    ("GET", R + "/contents/{path}"),
    ("PUT", R + "/contents/{path}"),
    ("DELETE", R + "/contents/{path}"),
    ("GET", R + "/commits/{ref}"),
    # pulls / issues / labels
    ("GET", R + "/pulls"),
    ("POST", R + "/pulls"),
    ("GET", R + "/pulls/{pull_number}"),
    ("PATCH", R + "/pulls/{pull_number}"),
    ("GET", R + "/pulls/{pull_number}/merge"),
    ("PUT", R + "/pulls/{pull_number}/merge"),
    ("GET", R + "/issues"),
    ("POST", R + "/issues"),
    ("GET", R + "/issues/{issue_number}"),
    ("PATCH", R + "/issues/{issue_number}"),
    ("GET", R + "/issues/{issue_number}/labels"),
    ("POST", R + "/issues/{issue_number}/labels"),
    ("GET", R + "/issues/{issue_number}/comments"),
    ("POST", R + "/issues/{issue_number}/comments"),
    ("PATCH", R + "/issues/comments/{comment_id}"),
    ("GET", R + "/labels"),
    ("POST", R + "/labels"),
    ("GET", R + "/labels/{name}"),
    # tags / releases
    ("GET", R + "/tags"),
    ("GET", R + "/releases"),
    ("POST", R + "/releases"),
    ("GET", R + "/releases/latest"),
    ("GET", R + "/releases/tags/{tag}"),
    ("GET", R + "/releases/{release_id}"),
    ("PATCH", R + "/releases/{release_id}"),
    ("DELETE", R + "/releases/{release_id}"),
    ("GET", R + "/releases/{release_id}/assets"),
    ("POST", R + "/releases/{release_id}/assets"),  # served under /uploads (upload_url)
    ("GET", R + "/releases/assets/{asset_id}"),
    ("DELETE", R + "/releases/assets/{asset_id}"),
    # actions: workflow runs and their artifacts (actions.py)
    ("GET", R + "/actions/workflows/{workflow_id}"),
    ("GET", R + "/actions/workflows/{workflow_id}/runs"),
    ("GET", R + "/actions/runs"),
    ("GET", R + "/actions/runs/{run_id}"),
    ("GET", R + "/actions/runs/{run_id}/artifacts"),
    ("GET", R + "/actions/artifacts"),
    ("GET", R + "/actions/artifacts/{artifact_id}"),
    ("DELETE", R + "/actions/artifacts/{artifact_id}"),
    ("GET", R + "/actions/artifacts/{artifact_id}/{archive_format}"),  # 302 to /_blobs/...
)

# Schemas used for error bodies on statuses an operation does not document (GitHub answers
# 404/403/... on every endpoint, the description lists them only on some).
FALLBACK_ERROR_SCHEMAS: tuple[str, ...] = ("basic-error", "validation-error")
