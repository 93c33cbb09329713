"""prodev-labs command line: `invoke --list` shows every task, `invoke --help TASK` explains one.

Thin task functions only: parsing flags and printing. The work lives in infra/ and labs/.
Each task takes its action as the first word, as in `invoke lab up --lesson 4`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from invoke import Collection, Exit, task

from labs.catalog import CatalogError
from labs.commands.errors import friendly_errors
from labs.spec import SpecError

LAB_ACTIONS = ("up", "down", "status", "check", "reset", "kubeconfig", "list", "render",
               "scale")


def _fail(exc: Exception) -> Exit:
    return Exit(f"error: {exc}", code=2)


# --- lab: one learner's environment -------------------------------------------------------
@task(
    positional=["action"],
    help={
        "action": f"one of: {', '.join(LAB_ACTIONS)}",
        "lesson": "lesson number 1-8 (`invoke lab list` shows them)",
        "learner": "learner name (DNS-1123); defaults to your login name, sanitised",
        "cohort": "cohort name; the namespace is <cohort>-<learner> (default: local)",
        "context": "kubeconfig context of any cluster; default: the local cluster, "
                   "created when none runs (kind with Docker, else simulated)",
        "out": "render: also write <namespace>.yaml here; kubeconfig: the file to write",
        "profile": "sizing profile instead of the lesson's (small, standard, large)",
        "ci_runner": "jenkins or github-actions (lesson 5)",
        "github_repo": "https://github.com/OWNER/REPO the CI runner builds",
        "json": "status, check: print JSON for scripts and dashboards",
        "expiry": "kubeconfig: token lifetime in hours (default 8)",
        "component": "scale: api (the API Deployment) or worker (the Celery workers)",
        "replicas": "scale: how many replicas, 0 up to the profile's max_replicas; with an "
                    "HPA this sets its minimum (see `invoke lab scale` in the README)",
        "url": "check: your API's base URL (default http://127.0.0.1:8000, the guide's "
               "port-forward of svc/api)",
        "mail_url": "check (lesson 7): Mailpit's web/API URL (default http://127.0.0.1:8025)",
        "chapa_url": "check (lesson 6): the Chapa sandbox URL (default http://127.0.0.1:8090)",
        "chapa_webhook_secret": "check (lesson 6): the webhook signing secret (default: read "
                                "from your namespace's app-secrets)",
        "jenkins_url": "check (lesson 5): Jenkins, http://USER:TOKEN@127.0.0.1:8080 (default "
                       "http://127.0.0.1:8080)",
    },
)
@friendly_errors
def lab(c, action, lesson=None, learner=None, cohort=None, context=None, out=None,
        profile=None, ci_runner=None, github_repo=None, json=False, expiry=8, component=None,
        replicas=None, url=None, mail_url=None, chapa_url=None, chapa_webhook_secret=None,
        jenkins_url=None):
    """One learner's lab environment, e.g. `invoke lab up --lesson 4`.

    up          provision or update your environment and print where everything is
    status      readiness of each component (--json for scripts)
    check       run the lesson's checks on your environment: pass/fail and a hint each
    kubeconfig  write a kubeconfig scoped to your namespace (token expires, see --expiry)
    reset       destroy and rebuild your environment from scratch
    down        remove your environment
    list        the lessons, what each deploys and what it asks of the cluster
    render      print every Kubernetes object as YAML, without a cluster
    scale       set the replicas of --component api|worker (--replicas N; --lesson optional)
    """
    from labs.commands import lab as cmd

    if action not in LAB_ACTIONS:
        raise Exit(f"error: unknown action {action!r}; use one of {', '.join(LAB_ACTIONS)}",
                   code=2)
    if action == "list":
        cmd.console.print(cmd.lessons_table())
        return
    if action == "scale":
        from labs.commands import scale

        sys.exit(scale.run(lesson=lesson, learner=learner,
                           cohort=cohort, context=context, component=component,
                           replicas=replicas))
    if lesson is None:
        raise Exit("error: --lesson is required (see `invoke lab list`)", code=2)
    try:
        spec = cmd.spec_from_flags(lesson, learner, cohort, profile=profile,
                                   ciRunner=ci_runner, githubRepo=github_repo)
        if action == "render":
            sys.stdout.write(cmd.render_manifests(spec, Path(out) if out else None))
            return
        from labs.commands.checks import Endpoints

        endpoints = Endpoints(url=url, mail_url=mail_url, chapa_url=chapa_url,
                              chapa_webhook_secret=chapa_webhook_secret,
                              jenkins_url=jenkins_url)
        sys.exit(cmd.run_action(action, spec, context=context, as_json=json,
                                out=Path(out) if out else None, expiry_hours=int(expiry),
                                endpoints=endpoints))
    except (SpecError, CatalogError) as exc:
        raise _fail(exc) from None


# --- cohort: a whole class ----------------------------------------------------------------
COHORT_ACTIONS = ("up", "down", "status", "check", "plan")


@task(
    positional=["action"],
    help={
        "action": f"one of: {', '.join(COHORT_ACTIONS)}",
        "roster": "the class list: YAML or CSV (see examples/cohort.yaml)",
        "lesson": "lesson number, overriding the roster's",
        "parallel": "learners provisioned at the same time (default: sized to this machine's "
                    "cores and memory)",
        "context": "kubeconfig context of any cluster (default: the local cluster)",
        "force": "up: try even when the plan says the cohort does not fit",
        "json": "status: print JSON",
        "out": "check: directory for cohort-report.csv and .html (default reports/<cohort>)",
    },
)
@friendly_errors
def cohort(c, action, roster, lesson=None, parallel=None, context=None, force=False, json=False,
           out=None):
    """A whole class: one isolated namespace and stack per learner.

    plan    how many learners the cluster fits, against the roster's total requests
    up      provision or update every learner in parallel; live progress, summary, exit 1
            if any learner failed (the others still finish; re-running converges)
    status  readiness per learner (--json for dashboards)
    check   every learner's lesson checks: a table, and CSV + HTML reports under --out
    down    remove every learner's stack, then check nothing labelled is left
    The roster is validated first: every problem is listed and nothing is touched.
    """
    from infra.cluster.target import NoClusterError
    from labs.commands import cohort as cmd
    from labs.roster import RosterError

    if action not in COHORT_ACTIONS:
        raise Exit(f"error: unknown action {action!r}; use one of "
                   f"{', '.join(COHORT_ACTIONS)}", code=2)
    try:
        class_list = cmd.load(roster, int(lesson) if lesson else None)
    except (RosterError, CatalogError) as exc:
        raise _fail(exc) from None
    try:
        if action == "plan":
            sys.exit(cmd.plan(class_list, context))
        if action == "status":
            sys.exit(cmd.status(class_list, context=context, as_json=json))
        if action == "check":
            sys.exit(cmd.check(class_list, context=context, out=out))
        sys.exit(cmd.up_or_down(action, class_list, context=context,
                                parallel=int(parallel) if parallel else None, force=force))
    except NoClusterError as exc:
        raise Exit(f"error: {exc}", code=1) from None



# --- cluster: kind, or the simulated cluster ----------------------------------------------
CLUSTER_ACTIONS = ("up", "down", "status")


@task(
    positional=["action"],
    auto_shortflags=False,
    help={
        "action": f"one of: {', '.join(CLUSTER_ACTIONS)}",
        "driver": "sim: real control plane on 127.0.0.1 with kwok-simulated nodes (no "
                  "containers run); kind: a kind cluster with a local registry (needs Docker)",
        "name": "cluster name (default: prodev-labs)",
        "nodes": "sim: number of simulated nodes (default 3)",
        "node_cpu": "sim: CPU of each node, e.g. 16 (default 16)",
        "node_memory": "sim: memory of each node, e.g. 64Gi (default 64Gi)",
        "workers": "kind: worker nodes beside the control plane (default 0)",
        "images": "kind: upstream (pull kind's node image and official add-ons), offline "
                  "(build every image here from Debian and the Go module proxy; no registry "
                  "contacted) or auto (upstream when its node image can be had; default)",
        "json": "status: print JSON",
    },
)
@friendly_errors
def cluster(c, action, driver="sim", name=None, nodes=3, node_cpu="16", node_memory="64Gi",
            workers=0, images="auto", json=False):
    """The local cluster labs run on, e.g. `invoke cluster up --driver sim --nodes 10`.

    up      start it (idempotent) and print its KUBECONFIG; sim builds the toolchain first,
            kind --images offline the offline kit (see `invoke kit`)
    status  sim: whether each process runs, nodes Ready, API address; kind: nodes, add-ons,
            image mode and host workarounds (--json)
    down    stop every process it started and delete its data (kind: containers, registry,
            network; says what, if anything, is left)

    The simulated cluster is also how an instructor rehearses a large cohort, its capacity
    and timing, without the hardware: the API server, scheduler and controllers are real,
    containers are simulated."""
    from labs.commands import cluster as cmd

    if action not in CLUSTER_ACTIONS:
        raise Exit(f"error: unknown action {action!r}; use one of "
                   f"{', '.join(CLUSTER_ACTIONS)}", code=2)
    if driver not in cmd.DRIVERS:
        raise Exit(f"error: unknown driver {driver!r}; use one of {', '.join(cmd.DRIVERS)}",
                   code=2)
    if action == "up":
        sys.exit(cmd.up(driver, name, int(nodes), str(node_cpu), str(node_memory),
                        int(workers), images=images))
    if action == "down":
        sys.exit(cmd.down(driver, name))
    sys.exit(cmd.status(driver, name, json))


# --- toolchain: pulumi, provider and control-plane binaries built offline ------------------
@task(help={"status": "only show which toolchain entries are built; build nothing"})
@friendly_errors
def toolchain(c, status=False):
    """Build pulumi, the provider and the control plane offline (from the Go module proxy).

    Builds into the user cache once per pinned version; already-built entries are skipped:
    pulumi, its Python language host, the Kubernetes provider (installed into the cache's
    PULUMI_HOME), etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok.
    A cold build takes tens of minutes on 2 cores."""
    from rich.console import Console

    from infra.cluster import toolchain as tc

    console = Console(stderr=True)
    if status:
        for key, built in tc.status().items():
            console.print(f"{key:45} {'[green]built[/]' if built else '[red]missing[/]'}")
        return
    from labs.commands.build_display import ensure_toolchain_shown

    t = ensure_toolchain_shown(console)
    console.print(f"[bold green]toolchain ready[/] in {tc.toolchain_dir()}")
    console.print(f"pulumi {t.versions.pulumi}, kubernetes provider {t.versions.pulumi_kubernetes},"
                  f" kubernetes {t.versions.kubernetes}, etcd {t.versions.etcd}, "
                  f"kwok {t.versions.kwok}")
    print(f"export PATH={t.pulumi_bin_dir}:{':'.join(map(str, t.extra_path))}:$PATH "
          f"PULUMI_HOME={t.pulumi_home}")



@task
@friendly_errors
def kit(c):
    """Build the offline kind kit: kind, a node image and every image it runs (cached).

    From Debian's packages and the Go module proxy only, no container registry: the kind CLI,
    a kind node image for the pinned Kubernetes with every image it preloads (control plane,
    etcd, CoreDNS, pause, kube-proxy, local-path), kube-router for pod networking and
    NetworkPolicy, and the metrics-server, Traefik and registry images. Needs a Docker engine.
    Seconds when built; `cluster up --driver kind --images offline` builds it too."""
    from labs.commands import cluster as cmd

    sys.exit(cmd.build_kit())


# --- test and bench -----------------------------------------------------------------------
@task(help={"fast": "only the unit tier (no servers, no toolchain)"})
def test(c, fast=False):
    """Run every test tier: unit; service (the sample app against real Postgres, RabbitMQ and
    SMTP; Locust against the app); e2e (the real Pulumi engine against a real API server with
    simulated nodes); kind (real pods on a kind cluster from the offline kit). Installs what
    the tiers need first (Debian's servers, a Docker engine), so this one command passes on a
    fresh clone; the first run builds the offline toolchain and kind kit (about an hour on 2
    cores)."""
    if fast:
        c.run("python -m pytest -m \"not service and not e2e and not kind\" tests")
        return
    c.run("bash scripts/install-test-deps.sh")
    c.run("invoke toolchain")
    c.run("invoke kit")
    c.run("python -m pytest tests")
    with c.cd("labs/app"):
        c.run(".venv/bin/python -m pytest")


@task(
    help={
        "target": "run Locust on this machine against this URL (e.g. a port-forward: "
                  "http://127.0.0.1:8000); default: a Job inside your namespace",
        "learner": "whose lab and report directory (reports/<learner>/<timestamp>/); "
                   "default: you",
        "lesson": "lesson whose SLO is checked (default: your lab's lesson, else 8: "
                  "p95 < 500 ms at 50 users)",
        "users": "concurrent simulated users (default 20)",
        "spawn_rate": "users started per second (default 5)",
        "duration": "how long, e.g. 60s or 2m (default 60s)",
        "scenario": "browse, book or mixed (default mixed)",
        "workers": "in-cluster: Locust worker pods beside a master (default 0: one Job)",
        "cohort": "cohort name; the namespace is <cohort>-<learner> (default: local)",
        "context": "kubeconfig context of the cluster (default: the running local one)",
    },
)
@friendly_errors
def loadtest(c, target=None, learner=None, lesson=None, users=20, spawn_rate=5,
             duration="60s", scenario="mixed", workers=0, cohort=None, context=None):
    """Load test your stack with Locust and get CSV, an HTML report and PNG charts.

    By default Locust runs as a Job in your namespace (no port-forward bottleneck; with
    --workers K, a master and K workers). --target runs it on this machine instead, e.g.
    through `kubectl port-forward svc/api 8000:80` and --target http://127.0.0.1:8000.
    Writes reports/<learner>/<timestamp>/ (with the API's replica count over the run) and
    prints a summary table and whether the lesson's SLO held; exits 1 when it did not and
    2 when the test could not run (no lab, Job failed, simulated cluster)."""
    from labs.commands import loadtest as cmd

    sys.exit(cmd.run(target=target, learner=learner, lesson=int(lesson) if lesson else None,
                     users=int(users), spawn_rate=float(spawn_rate), duration=duration,
                     scenario=scenario, workers=int(workers), cohort=cohort,
                     context=context))


BENCH_ACTIONS = ("api", "cohort")


@task(
    positional=["action"],
    help={
        "action": "api: the sample API, reference vs naive queries; cohort: provisioning "
                  "time, this orchestrator vs a sequential loop of plain `pulumi up`",
        "levels": "api: Locust's concurrency levels, comma-separated (default 1,16)",
        "duration": "api: seconds per run: each wrk endpoint, each Locust level (default 15)",
        "tool": "api: wrk (per endpoint), locust (the browse journey) or both (default)",
        "api_profile": "api: instead, profile requests in process: µs per middleware, "
                       "authentication, metrics, logging, serialization and SQL",
        "compare": "api: an earlier run's JSON (e.g. bench/results/api-before.json): print "
                   "before/after",
        "instructions": "api: instead, count instructions per request with callgrind (steady "
                        "on a busy machine, where requests/s drift)",
        "against": "api --instructions: another tree of the app to count beside this one",
        "repeat": "api: wrk rounds over the endpoints; each row is the median run (default 1)",
        "learners": "cohort: cohort sizes, comma-separated (default 25,50,100)",
        "parallel": "cohort: the orchestrator's pool size (default: sized to the machine)",
        "baseline": "cohort: learners of the sequential `pulumi up` baseline, measured once "
                    "and extrapolated to the other sizes (default 10)",
        "profile": "cohort: instead, profile one run of N learners: CPU per process, pulumi "
                   "CLI call and thread, and on the cluster side",
    },
)
@friendly_errors
def bench(c, action, levels="1,16", duration=15, learners="25,50,100", parallel=None,
          baseline=10, profile=0, tool="both", api_profile=False, compare=None,
          instructions=False, against=None, repeat=1):
    """Benchmarks that print figures and write JSON + PNG under bench/results/ (not tests)."""
    if action not in BENCH_ACTIONS:
        raise Exit(f"error: unknown action {action!r}; use one of {', '.join(BENCH_ACTIONS)}",
                   code=2)
    if action == "api":
        from bench import api

        if api_profile:
            api.profile()
            return
        if instructions:
            from bench import instructions as count

            if code := count.main(["--baseline-dir", str(against)] if against else []):
                raise Exit(code=code)
            return
        if why := api.repeat_problem(int(repeat)):
            raise Exit(f"error: --{why}", code=2)
        api.run(levels=tuple(int(x) for x in str(levels).split(",")), duration=int(duration),
                tool=tool, baseline=Path(compare) if compare else None, repeat=int(repeat))
        return
    if int(profile):
        from bench.cohort_profile import profile as run_profile

        run_profile(int(profile), int(parallel) if parallel else None)
        return
    from bench import cohort as bench_cohort

    bench_cohort.run(sizes=tuple(int(x) for x in str(learners).split(",")),
                     parallel=int(parallel) if parallel else None, baseline=int(baseline))


ns = Collection()
ns.add_task(lab)
ns.add_task(cohort)
ns.add_task(test)
ns.add_task(loadtest)
ns.add_task(bench)
ns.add_task(toolchain)
ns.add_task(kit)
ns.add_task(cluster)
