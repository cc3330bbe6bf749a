"""Benchmark: `poll` on 10 and 100 components, cold and warm, side by side with nvchecker.

    .venv/bin/python bench/poll.py [--sizes 10,100] [--repeat 21]

Upstreams are loopback servers in a child process (so their CPU does not share our GIL):
the tests' UpstreamServer (html-index pages and tarballs) and FakeGitHub (github-tags).
Half the components are html-index, half github-tags; each lists 20 versions and the newest
has a tarball. Both tools run in this process: ours via `bot.poll.poll_components` with the
App's clients (fresh state dir = cold, same state dir = warm), nvchecker via its own
dispatcher (`regex` source for the pages, `github` source with `use_max_tag`), on the HTTP
library nvchecker picks itself (printed first; nvchecker requires pycurl, so it is tornado
over libcurl: one thread, an event loop, HTTP in C; ours is urllib3 on http.client, in
Python, with the poll's threads).

nvchecker's github source builds `https://api.<host>/...`; it cannot be pointed at a plain-HTTP
loopback server by configuration, so this script swaps its URL template for
`http://<host>/repos/<repo>/git/matching-refs/tags` (same answer shape as `git/refs/tags`,
which the fake serves). Ours also writes its conditional-request cache (one file) at the end.

Both tools do the same job in each case. In `all-new` every component has an update, and
before proposing one ours checks that its source tarball answers (a HEAD on the component's
`source` URL: a listing may name a version whose file is missing, as the legacy
mono-project.com page and the tag-only 6.12.0.206 do). nvchecker's own way to make that
check is an `httpheader` entry (a HEAD) per tarball, so its config gets one per component
beside the listing entry: both tools then send 2 requests per component. nvchecker knows the
tarball URLs up front and sends all its requests at once; ours sends a probe only once its
listing is in. `--listings-only` drops nvchecker's tarball entries (the comparison this case
made before: ours 2 requests per component, nvchecker 1).

What is timed, the same way for both tools: from reading the config file to having every
result, i.e. config parsing, building the HTTP client, all requests, parsing, and (ours)
saving the cache file. Our versions.toml holds twice the bytes of nvchecker's config (the
pins, source URLs and stacks a build needs) and is validated strictly; ours parses it with
tomli (mypyc-compiled), nvchecker with the standard library's tomllib (the same parser in
pure Python, about 3x slower). Not timed: imports (one untimed warm-up run of each tool
first), building `Settings`/`App` from a dict (no I/O), and the quota query to the fake.
A cold run of ours starts from an empty state dir and new clients (new connections, new
threads); nvchecker's runs build a new client and event loop each time. Before each timed
run the garbage collector runs, and our client's connections are closed after its run, so
that neither tool pays for the other's leftovers (closing sockets makes the server work).
Runs alternate (ours cold, ours warm, nvchecker), `--repeat` times; the table shows each
tool's median run. A ratio is the median of the `--repeat` paired ratios (ours in one
round / nvchecker in the same round, a few milliseconds apart), so that a change of the
machine's load between rounds hits both sides of a ratio alike; the quartiles of those
ratios are printed beside it (their spread is the noise). Prints; no timed assertions.

The `requests` column is what the two servers answered during the run (for ours it must
equal the client's own count); the `per request` ratio divides each tool's wall time by its
requests, i.e. compares the cost of a request even where the two counts differ
(`--listings-only`).

The `cpu s` column is the process's CPU time over the same span (our threads together): on
an idle machine both tools are CPU-bound and the wall ratio is close to the CPU ratio; on a
loaded one, waits for a core weigh in (and favour the tool with more requests in flight).
The `waits` column counts the process's voluntary context switches over the span: each is a
thread that stopped to wait, for an answer or for the GIL. nvchecker's one thread waits only
when nothing is ready; ours hands the GIL between the poll's threads several times per
request, and those hand-offs cost system time (futex calls) that nvchecker does not pay.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import App  # noqa: E402
from bot.poll import deps_from_app, poll_components  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.recording import RecordingReporter  # noqa: E402

VERSIONS_PER_COMPONENT = 20
REPEAT = 21
# nothing-new: every current version is the newest (the steady state: one listing each);
# all-new: every component has an update: both tools list it and HEAD its newest tarball.
SCENARIOS = ("nothing-new", "all-new")


def median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]


@dataclass
class Ratios:
    """Ours / nvchecker per round, cold and warm."""

    cold: list[float]
    warm: list[float]


def summary(ratios: list[float]) -> str:
    """The median and quartiles of paired ratios: `1.02 (0.98-1.06)`."""
    q1, mid, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    return f"{mid:.2f} ({q1:.2f}-{q3:.2f})"


def component_versions(i: int) -> list[str]:
    """20 versions, 3- and 4-part; the newest differs per component."""
    old = [f"6.{minor}.0.{build}" for minor in (0, 4, 8, 10, 12) for build in (90, 122, 199)]
    new = [f"6.14.{p}" for p in range(4)] + [f"6.14.{4 + i % 5}"]
    return (old + new)[-VERSIONS_PER_COMPONENT:]


def newest(i: int) -> str:
    return max(component_versions(i), key=lambda v: tuple(int(p) for p in v.split(".")))


def is_html(i: int) -> bool:
    return i % 2 == 0


def tarball_path(i: int) -> str:
    """The path of component i's newest source tarball (the one both tools check)."""
    return (f"/c{i}/mono-{newest(i)}.tar.xz" if is_html(i) else
            f"/g{i}/src-{newest(i)}.tar.gz")


TARBALL = b"x" * 1024


# -- the upstreams, in a child process --------------------------------------------------------

def serve(count: int, conn: Connection) -> None:
    import socketserver

    # UpstreamServer has TCP_NODELAY and a 128 backlog itself; FakeGitHub (not a harness of
    # this benchmark's own) gets the backlog here, so that 20 clients connecting at once
    # are not answered with a dropped SYN (a 1 s retransmit).
    socketserver.TCPServer.request_queue_size = 128

    from tests.fakegithub import FakeGitHub
    from tests.harness.upstream import UpstreamServer

    # a quota no run of this benchmark spends (the fake's default, 5000, lasts 25 rounds)
    with UpstreamServer() as up, FakeGitHub(validate=False, rate_limit=10**9) as gh:
        for i in range(count):
            vs = component_versions(i)
            if is_html(i):
                links = "\n".join(f'<a href="mono-{v}.tar.xz">mono-{v}.tar.xz</a>' for v in vs)
                up.add(f"/c{i}/", f"<html><body><pre>\n<a href=\"../\">../</a>\n{links}\n"
                       "</pre></body></html>", content_type="text/html")
                up.add(tarball_path(i), TARBALL)
            else:
                gh.create_repo("bench", f"g{i}")
                for v in vs:
                    gh.add_tag("bench", f"g{i}", v)
                up.add(tarball_path(i), TARBALL)
        conn.send((up.url, gh.url))
        while True:
            command = conn.recv()
            if command == "quota":
                conn.send(gh.quota_used)
            elif command == "requests":  # every request both servers answered
                conn.send(len(up.requests) + len(gh.requests))
            else:
                break


# -- configs -------------------------------------------------------------------------------

def our_config(count: int, up: str, scenario: str) -> str:
    parts = ['[stacks.bench]\nbuild-image = "b:build"\nrun-image = "b:run"\n']
    for i in range(count):
        current = newest(i) if scenario == "nothing-new" else "6.0.0.90"
        if is_html(i):
            parts.append(f"""
[components.c{i}]
version = "{current}"
source = "{up}/c{i}/mono-{{version}}.tar.xz"
sha256 = ""

[[components.c{i}.upstream]]
type = "html-index"
url = "{up}/c{i}/"
pattern = 'mono-(?P<version>[0-9]+(?:\\.[0-9]+){{1,3}})\\.tar\\.xz'
""")
        else:
            parts.append(f"""
[components.g{i}]
version = "{current}"
source = "{up}/g{i}/src-{{version}}.tar.gz"
sha256 = ""

[[components.g{i}.upstream]]
type = "github-tags"
repo = "bench/g{i}"
""")
    return "".join(parts)


def nvchecker_config(count: int, up: str, gh_host: str, tarballs: bool) -> str:
    """The listings, and with `tarballs` a HEAD on each newest tarball (entry `<name>-tarball`,
    its "version" the Content-Length)."""
    parts = ["[__config__]\nmax_concurrency = 20\n"]
    for i in range(count):
        if tarballs:
            parts.append(f"""
[{"c" if is_html(i) else "g"}{i}-tarball]
source = "httpheader"
url = "{up}{tarball_path(i)}"
header = "Content-Length"
regex = '[0-9]+'
""")
        if is_html(i):
            parts.append(f"""
[c{i}]
source = "regex"
url = "{up}/c{i}/"
regex = 'mono-([0-9]+(?:\\.[0-9]+){{1,3}})\\.tar\\.xz'
""")
        else:
            parts.append(f"""
[g{i}]
source = "github"
github = "bench/g{i}"
use_max_tag = true
host = "{gh_host}"
token = "test-token"
""")
    return "".join(parts)


# -- runs ----------------------------------------------------------------------------------

class Span:
    """Wall time, process CPU time and voluntary context switches from now to `end()`."""

    def __init__(self) -> None:
        self.waits = resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
        self.start, self.cpu = time.perf_counter(), time.process_time()

    def end(self) -> tuple[float, float, int]:
        seconds, cpu = time.perf_counter() - self.start, time.process_time() - self.cpu
        return seconds, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw - self.waits


@dataclass
class Run:
    tool: str
    scenario: str
    size: int
    phase: str
    seconds: float
    cpu: float  # process CPU seconds over the same span (all threads)
    waits: int  # voluntary context switches over the same span (all threads)
    requests: int  # as the servers counted them
    quota: int
    latest: dict[str, str]


def run_ours(scenario: str, size: int, config: Path, cache: Path, gh_url: str,
             quota: Callable[[], int], served: Callable[[], int]) -> Run:
    settings = Settings.from_env({"GITHUB_API_URL": gh_url, "GITHUB_TOKEN": "test-token",
                                  "RELEASE_BOT_CACHE": str(cache)}, config_path=config)
    app = App(settings, RecordingReporter())
    before, sent = quota(), served()
    gc.collect()  # the previous run's garbage (sockets too) is not collected in this one
    span = Span()
    deps = deps_from_app(app)
    results = poll_components(app.config, deps, app.reporter)
    app.http.cache.save()
    seconds, cpu, waits = span.end()
    app.http.close()  # not left to the garbage collector, i.e. to nvchecker's timed run
    requests = served() - sent
    if requests != app.http.stats.requests:  # GitHub's pages included in both
        raise SystemExit(f"the servers saw {requests} requests, our client counted "
                         f"{app.http.stats.requests}")
    errors = [r for r in results if r.status == "error"]
    if errors:
        raise SystemExit(f"our poll failed: {errors[0].component}: {errors[0].error}")
    return Run("release-bot", scenario, size, "cold", seconds, cpu, waits, requests,
               quota() - before,
               {r.component: r.latest.text for r in results if r.latest is not None})


def run_nvchecker(scenario: str, size: int, config: Path, entries_expected: int,
                  quota: Callable[[], int], served: Callable[[], int]) -> Run:
    import nvchecker_source.github as nv_github
    import structlog
    from nvchecker import core
    from nvchecker.util import EntryWaiter

    nv_github.GITHUB_MAX_TAG = "http://%s/repos/%s/git/matching-refs/tags"
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())
    before, sent = quota(), served()
    gc.collect()
    span = Span()
    entries, options = core.load_file(str(config), use_keymanager=False)

    async def main() -> tuple[dict[str, object], bool]:
        task_sem = asyncio.Semaphore(options.max_concurrency)
        result_q: asyncio.Queue = asyncio.Queue()  # type: ignore[type-arg]
        dispatcher = core.setup_httpclient(options.max_concurrency, options.httplib,
                                           options.http_timeout, options.resolver)
        waiter = EntryWaiter()
        futures = dispatcher.dispatch(entries, task_sem, result_q, options.keymanager, waiter,
                                      1, options.source_configs)
        result_fu = asyncio.create_task(core.process_result({}, result_q, waiter))
        await core.run_tasks(futures)
        result_fu.cancel()
        return await result_fu  # type: ignore[no-any-return]

    results, failed = asyncio.run(main())
    seconds, cpu, waits = span.end()
    if failed or len(results) != entries_expected:
        raise SystemExit(f"nvchecker failed ({len(results)}/{entries_expected} results)")
    found = {name: r.version for name, r in results.items()}  # type: ignore[attr-defined]
    if any(found[name] != str(len(TARBALL)) for name in found if name.endswith("-tarball")):
        raise SystemExit("nvchecker: a tarball did not answer with its length")
    return Run("nvchecker", scenario, size, "-", seconds, cpu, waits, served() - sent,
               quota() - before,
               {name: v for name, v in found.items() if not name.endswith("-tarball")})


def bench(size: int, work: Path, repeat: int = REPEAT, listings_only: bool = False
          ) -> tuple[list[Run], dict[str, Ratios]]:
    """Both scenarios on one set of upstreams of `size` components."""
    parent, child = mp.Pipe()
    server = mp.get_context("fork").Process(target=serve, args=(size, child), daemon=True)
    server.start()
    up_url, gh_url = parent.recv()

    def quota() -> int:
        parent.send("quota")
        return int(parent.recv())

    def served() -> int:
        parent.send("requests")
        return int(parent.recv())

    runs: list[Run] = []
    ratios: dict[str, Ratios] = {}
    expected = {(f"c{i}" if is_html(i) else f"g{i}"): newest(i) for i in range(size)}
    try:
        for scenario in SCENARIOS:
            tarballs = scenario == "all-new" and not listings_only
            nv = work / f"nvchecker-{size}-{scenario}.toml"
            nv.write_text(nvchecker_config(size, up_url, gh_url.removeprefix("http://"),
                                           tarballs))
            entries = size * (2 if tarballs else 1)
            ours = work / f"versions-{size}-{scenario}.toml"
            ours.write_text(our_config(size, up_url, scenario))
            run_ours(scenario, size, ours, work / f"warmup-{size}-{scenario}", gh_url, quota,
                     served)
            run_nvchecker(scenario, size, nv, entries, quota, served)  # imports, structlog
            colds, warms, nvs = [], [], []
            for rep in range(repeat):
                cache = work / f"state-{size}-{scenario}-{rep}"
                colds.append(run_ours(scenario, size, ours, cache, gh_url, quota, served))
                warms.append(run_ours(scenario, size, ours, cache, gh_url, quota, served))
                nvs.append(run_nvchecker(scenario, size, nv, entries, quota, served))
            for run in (*colds, *warms, *nvs):
                if run.latest != expected:
                    wrong = sorted(k for k in expected if run.latest.get(k) != expected[k])
                    raise SystemExit(f"{run.tool} {scenario}: wrong latest for {wrong[:5]}")
            ratios[scenario] = Ratios(
                [c.seconds / n.seconds for c, n in zip(colds, nvs, strict=True)],
                [w.seconds / n.seconds for w, n in zip(warms, nvs, strict=True)])
            cold, warm, nv_run = median(colds), median(warms), median(nvs)
            warm.phase, nv_run.phase = "warm", "cold"
            runs += [cold, warm, nv_run]
    finally:
        parent.send("stop")
        server.join(5)
    return runs, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="rounds (median)")
    parser.add_argument("--listings-only", action="store_true",
                        help="all-new: nvchecker lists only, without checking the tarballs")
    args = parser.parse_args()
    from nvchecker.httpclient import find_best_httplib

    print(f"nvchecker's HTTP library: {find_best_httplib()}")
    rows: list[Run] = []
    ratios: dict[tuple[str, int], Ratios] = {}
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            runs, by_scenario = bench(size, Path(tmp), args.repeat, args.listings_only)
            rows.extend(runs)
            ratios.update({(scenario, size): r for scenario, r in by_scenario.items()})
    print(f"{'scenario':<12} {'tool':<12} {'components':>10} {'run':<5} {'wall s':>8} "
          f"{'cpu s':>7} {'waits':>6} {'requests':>9} {'GH quota':>9}  same latest")
    for r in rows:
        print(f"{r.scenario:<12} {r.tool:<12} {r.size:>10} {r.phase:<5} {r.seconds:>8.3f} "
              f"{r.cpu:>7.3f} {r.waits:>6} {r.requests:>9} {r.quota:>9}  yes")
    print()
    for scenario in SCENARIOS:
        for size in sorted({r.size for r in rows}):
            group = [r for r in rows if r.size == size and r.scenario == scenario]
            ours = {r.phase: r for r in group if r.tool == "release-bot"}
            nv = next(r for r in group if r.tool == "nvchecker")
            cold, warm, paired = ours["cold"], ours["warm"], ratios[scenario, size]
            per_request = statistics.median(paired.cold) * nv.requests / cold.requests
            print(f"{scenario:<12} {size:>4} components: wall ratio release-bot/nvchecker "
                  f"cold {summary(paired.cold)}, warm {summary(paired.warm)}; per request "
                  f"cold {per_request:.2f}; warm GitHub quota {warm.quota} (target 0)")


if __name__ == "__main__":
    main()
