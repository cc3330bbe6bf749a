"""A tiny content-addressed git object store (blobs, trees, commits) with git's own SHA-1s."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

BLOB_MODES = ("100644", "100755", "120000")
TREE_MODE = "040000"

# flat view of a tree: path -> (mode, blob sha)
Flat = dict[str, tuple[str, str]]


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: str  # ISO 8601, e.g. 2024-01-02T03:04:05Z
    timestamp: int


@dataclass
class Commit:
    sha: str
    tree: str
    parents: list[str]
    message: str
    author: Person
    committer: Person


@dataclass
class TreeEntry:
    name: str
    mode: str
    type: str  # "blob" | "tree"
    sha: str


@dataclass
class GitStore:
    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, list[TreeEntry]] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    # -- writing -------------------------------------------------------------------------
    def put_blob(self, data: bytes) -> str:
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        self.blobs[sha] = data
        return sha

    def put_tree(self, entries: list[TreeEntry]) -> str:
        # git orders entries by name, comparing trees as if their name ended in "/"
        entries = sorted(entries, key=lambda e: e.name + ("/" if e.type == "tree" else ""))
        raw = b"".join(
            f"{e.mode.lstrip('0')} {e.name}".encode() + b"\0" + bytes.fromhex(e.sha)
            for e in entries
        )
        sha = hashlib.sha1(b"tree %d\0" % len(raw) + raw, usedforsecurity=False).hexdigest()
        self.trees[sha] = entries
        return sha

    def put_flat(self, flat: Flat) -> str:
        """Build (nested) trees from a flat path map, return the root tree sha."""
        children: dict[str, Flat] = {}
        entries: list[TreeEntry] = []
        for path, (mode, sha) in flat.items():
            head, sep, rest = path.partition("/")
            if sep:
                children.setdefault(head, {})[rest] = (mode, sha)
            else:
                entries.append(TreeEntry(head, mode, "blob", sha))
        for name, sub in children.items():
            entries.append(TreeEntry(name, TREE_MODE, "tree", self.put_flat(sub)))
        return self.put_tree(entries)

    def put_commit(
        self, tree: str, parents: list[str], message: str, author: Person, committer: Person
    ) -> Commit:
        lines = [f"tree {tree}"]
        lines += [f"parent {p}" for p in parents]
        lines.append(f"author {author.name} <{author.email}> {author.timestamp} +0000")
        lines.append(f"committer {committer.name} <{committer.email}> {committer.timestamp} +0000")
        raw = ("\n".join(lines) + "\n\n" + message).encode()
        sha = hashlib.sha1(b"commit %d\0" % len(raw) + raw, usedforsecurity=False).hexdigest()
        commit = Commit(sha, tree, list(parents), message, author, committer)
        self.commits[sha] = commit
        return commit

    # -- reading -------------------------------------------------------------------------
    def flat(self, tree_sha: str, prefix: str = "") -> Flat:
        out: Flat = {}
        for e in self.trees[tree_sha]:
            path = prefix + e.name
            if e.type == "tree":
                out.update(self.flat(e.sha, path + "/"))
            else:
                out[path] = (e.mode, e.sha)
        return out

    def files(self, commit_sha: str) -> Flat:
        return self.flat(self.commits[commit_sha].tree)

    def lookup_path(self, tree_sha: str, path: str) -> TreeEntry | None:
        """Entry for ``path`` (``""`` is the root tree itself)."""
        entry = TreeEntry("", TREE_MODE, "tree", tree_sha)
        for part in [p for p in path.split("/") if p]:
            if entry.type != "tree":
                return None
            found = [e for e in self.trees[entry.sha] if e.name == part]
            if not found:
                return None
            entry = found[0]
        return entry

    def ancestors(self, sha: str) -> set[str]:
        seen: set[str] = set()
        stack = [sha]
        while stack:
            cur = stack.pop()
            if cur in seen or cur not in self.commits:
                continue
            seen.add(cur)
            stack.extend(self.commits[cur].parents)
        return seen

    def is_ancestor(self, maybe_ancestor: str, sha: str) -> bool:
        return maybe_ancestor in self.ancestors(sha)

    def merge_base(self, a: str, b: str) -> str | None:
        common = self.ancestors(a) & self.ancestors(b)
        if not common:
            return None
        # the best common ancestor is one that is not an ancestor of another common one
        for c in common:
            if not any(c != o and c in self.ancestors(o) for o in common):
                return c
        return None

    def three_way(self, base: str | None, ours: str, theirs: str) -> Flat | None:
        """File-level three-way merge; None on a conflict."""
        b = self.files(base) if base else {}
        o, t = self.files(ours), self.files(theirs)
        out: Flat = {}
        for path in set(b) | set(o) | set(t):
            bv, ov, tv = b.get(path), o.get(path), t.get(path)
            if ov == tv:
                result = ov
            elif ov == bv:
                result = tv
            elif tv == bv:
                result = ov
            else:
                return None
            if result is not None:
                out[path] = result
        return out

    def diff(self, old: str | None, new: str) -> list[dict[str, Any]]:
        a = self.files(old) if old else {}
        b = self.files(new)
        out: list[dict[str, Any]] = []
        for path in sorted(set(a) | set(b)):
            if a.get(path) == b.get(path):
                continue
            if path not in a:
                status = "added"
            elif path not in b:
                status = "removed"
            else:
                status = "modified"
            old_lines = self._lines(a.get(path))
            new_lines = self._lines(b.get(path))
            out.append(
                {
                    "path": path,
                    "status": status,
                    "sha": (b.get(path) or a[path])[1],
                    "additions": len(new_lines),
                    "deletions": len(old_lines),
                }
            )
        return out

    def _lines(self, entry: tuple[str, str] | None) -> list[bytes]:
        if entry is None:
            return []
        return self.blobs[entry[1]].splitlines()
