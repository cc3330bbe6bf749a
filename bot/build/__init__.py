"""Building components in clean containers: plan (pure), then run through small adapters.

Layout: `plan` (pure BuildPlan), `container` (container port + docker adapter), `images`
(the builder image, tagged by a hash of its inputs), `prune` (per-component prune hooks),
`tarball` (reproducible tar.gz of /app), `manifest` (the JSON beside each artifact: the
contract with publish), `runner` (executes a plan and reports its phases).
"""
