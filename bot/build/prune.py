"""Per-component prune hooks: shell run at /app in the build container after `make install`.

The registry is keyed by the `prune` value of versions.toml:

* ``none``     keep everything `make install` wrote.
* ``default``  strip ELF executables and shared libraries; drop static libraries (*.a),
               libtool archives (*.la), docs, man and info pages.
* ``mono``     default, plus debug symbols (*.mdb, *.pdb), the reference assemblies
               (lib/mono/*-api: compile-time only facades of older profiles), the Boehm GC
               runtime (mono-boehm and libmonoboehm) and monodoc. Kept on purpose: bin/ (mono,
               mcs, csc wrappers), lib/mono/4.5 (mcs.exe, System.Web, Facades: what the smoke
               tests' console and HttpListener apps and XSP's build compile against),
               lib/mono/gac, etc/mono (machine.config) and the pkg-config files XSP's
               configure reads. (lib/mono/4.5-api goes: lib/mono/4.5 is the full profile.)
* ``xsp``      default, plus debug symbols and XSP's sample pages (lib/xsp/test).

Mono's AOT images (*.dll.so, *.exe.so) are never stripped: they are loaded by the runtime,
which looks for their symbols.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.errors import BuildError

_STRIP = r"""find . -type f ! -name '*.dll.so' ! -name '*.exe.so' \
  \( -perm -u+x -o -name '*.so' -o -name '*.so.*' \) -print0 |
while IFS= read -r -d '' f; do
  if [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ]; then
    strip --strip-unneeded "$f" && echo "strip $f"
  fi
done"""
_DEFAULT = (
    _STRIP,
    r"find . \( -name '*.a' -o -name '*.la' \) -type f -print -delete",
    "rm -rfv ./share/doc ./share/man ./share/info ./share/gtk-doc ./man ./doc | tail -n 3",
)
_DEBUG_SYMBOLS = r"find . \( -name '*.mdb' -o -name '*.pdb' \) -type f -print -delete | wc -l"
_MONO = (
    *_DEFAULT,
    _DEBUG_SYMBOLS,
    "for d in ./lib/mono/*-api; do [ -d \"$d\" ] && rm -rf \"$d\" && echo \"rm $d\"; done; true",
    "rm -fv ./bin/mono-boehm ./lib/libmonoboehm-2.0.* ./lib/pkgconfig/mono-2-boehm.pc",
    "rm -rfv ./lib/monodoc ./lib/mono/monodoc | tail -n 3",
)
_XSP = (
    *_DEFAULT,
    _DEBUG_SYMBOLS,
    "rm -rfv ./lib/xsp/test | tail -n 3",
)

PRUNE_HOOKS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "none": (),
    "default": _DEFAULT,
    "mono": _MONO,
    "xsp": _XSP,
})


def prune_script(hook: str) -> str:
    """The bash script (run with /app as the working directory) for a prune hook."""
    try:
        commands = PRUNE_HOOKS[hook]
    except KeyError:
        raise BuildError(f"unknown prune hook {hook!r}; use one of: "
                         f"{', '.join(PRUNE_HOOKS)}") from None
    if not commands:
        return "set -e\necho 'prune = \"none\": keeping everything'"
    lines = ["set -eo pipefail", 'du -sh . | sed "s/^/before prune: /"',
             # What the artifact would weigh unpruned (same gzip level as bot/build/tarball).
             'echo "before prune: $(tar -cf - . | gzip -9 | wc -c) bytes as tar.gz"']
    lines.extend(commands)
    lines.append('du -sh . | sed "s/^/after prune: /"')
    return "\n".join(lines)
