"""Release notes: what a maintainer reads and what a buildpack downloads, from one template."""
