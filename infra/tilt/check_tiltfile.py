#!/usr/bin/env python3
"""Checks the repo's Tiltfile without Tilt.

Tilt is not installable on our machines, so this runs the Tiltfile in go.starlark.net (the
interpreter Tilt embeds, through the PyPI package starlark-go, installed into
.tools/tiltcheck on first use) with stand-ins for the Tilt builtins it uses. The stand-ins
take Tilt's own parameter names, so a misspelt or unknown argument fails, and they check
types the way Tilt would (env values must be strings, probes need exactly one action, ...).
Then it asserts the resources and their dependencies come out as intended, for several
`tilt up -- ARGS`, and runs the shell the Tiltfile runs: the nats config render commands,
exactly as the Tiltfile wrote them (into a temp dir), then `nats-server -t` on the result.

    python3 infra/tilt/check_tiltfile.py          # static checks + render + nats-server -t
                                                  # (+ the built `edgeops`, if there is one)
    python3 infra/tilt/check_tiltfile.py --live   # also start the hub and leaves for real
                                                  # (ports 4222.., skipped if taken), and
                                                  # Postgres (postgres.sh on a free port)
    python3 infra/tilt/check_tiltfile.py --e2e    # also run the resources as Tilt would, with
                                                  # the built binaries, and simulate readings

Exits non-zero on any problem.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import posixpath
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tokenize
import tomllib
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TILTFILE = REPO / "Tiltfile"  # --tiltfile replaces it (to check the checker on a broken copy)
STARLARK_GO = "starlark-go==1.0.1"
PY_DIR = REPO / ".tools" / "tiltcheck"

TRIGGER_MODE_AUTO = 1
TRIGGER_MODE_MANUAL = 2

# What the dev loop must look like (see the Tiltfile header and docs/tilt.md).
HUB = {"client": 4222, "monitor": 8222, "leaf": 7422}
LEAF = {"s1": (4223, 8223), "s2": (4224, 8224)}
PG_PORT = 5432
HUB_URL = "nats://127.0.0.1:4222"
DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/edgeops"

PROBLEMS: list[str] = []


def problem(msg: str) -> None:
    PROBLEMS.append(msg)
    print(f"  FAIL {msg}")


def expect(cond: bool, msg: str) -> bool:
    if not cond:
        problem(msg)
    return cond


def ok(msg: str) -> None:
    print(f"  ok   {msg}")


# --------------------------------------------------------------------------- interpreter
def load_starlark():
    try:
        import starlark_go  # noqa: F401
    except ImportError:
        if str(PY_DIR) not in sys.path:
            sys.path.insert(0, str(PY_DIR))
        try:
            import starlark_go  # noqa: F401
        except ImportError:
            print(f"installing {STARLARK_GO} into {PY_DIR.relative_to(REPO)} ...", flush=True)
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-input", "--no-deps",
                 "--disable-pip-version-check", "--target", str(PY_DIR), STARLARK_GO],
                check=True, stdin=subprocess.DEVNULL,
                env={**os.environ, "PIP_ROOT_USER_ACTION": "ignore"},
            )
            importlib.invalidate_caches()  # PY_DIR did not exist when the path was scanned
            import starlark_go  # noqa: F401
    import starlark_go

    # Tilt's dialect: top-level if/for and re-assigned globals, sets, recursion.
    starlark_go.configure_starlark(allow_set=True, allow_global_reassign=True, allow_recursion=True)
    return starlark_go


MODULE_ROOTS = ("config", "os")


def flatten_module_access(src: str) -> str:
    """`config.parse()` -> `config__parse()`, `os.path.join` -> `os__path__join`.

    starlark-go's Python binding can register functions and plain values but not module
    objects, so Tilt's modules become flat names; an attribute the stand-ins lack is then an
    "undefined" error, as an unknown attribute is in Tilt. Strings and comments are untouched.
    """
    toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    edits = []
    i = 0
    while i < len(toks):
        t = toks[i]
        prev = toks[i - 1].string if i else ""
        if t.type == tokenize.NAME and t.string in MODULE_ROOTS and prev != ".":
            parts, j = [t.string], i
            while j + 2 < len(toks) and toks[j + 1].string == "." and toks[j + 2].type == tokenize.NAME:
                parts.append(toks[j + 2].string)
                j += 2
            if len(parts) > 1:
                if t.start[0] != toks[j].end[0]:
                    raise SystemExit(f"Tiltfile:{t.start[0]}: split attribute chain; keep {'.'.join(parts)} on one line")
                edits.append((t.start, toks[j].end, "__".join(parts)))
            i = j + 1
        else:
            i += 1
    lines = src.splitlines(keepends=True)
    for (row, c0), (_, c1), new in reversed(edits):
        line = lines[row - 1]
        lines[row - 1] = line[:c0] + new + line[c1:]
    return "".join(lines)


# --------------------------------------------------------------------------- Tilt stand-ins
class TiltfileError(Exception):
    pass


LABEL_RE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
RESOURCE_NAME_RE = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.:]*$")


def str_or_list(value, what: str, allow_empty=True) -> list[str]:
    if isinstance(value, str):
        if not value:
            if allow_empty:
                return []
            raise TiltfileError(f"{what}: empty")
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TiltfileError(f"{what}: want a string or a list of strings, got {value!r}")


def str_dict(value, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TiltfileError(f"{what}: want a dict, got {value!r}")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise TiltfileError(f"{what}: Tilt wants string keys and values, got {k!r}: {v!r}")
    return dict(value)


class Tilt:
    """One Tiltfile execution: `tilt <subcommand> -- <args>` with a given environment."""

    def __init__(self, subcommand: str = "up", args: list[str] | None = None, env: dict | None = None):
        self.subcommand = subcommand
        self.args = args or []
        self.env = env or {}
        self.resources: dict[str, dict] = {}
        self.order: list[str] = []
        self.flags: dict[str, str] = {}
        self.parsed = False
        self.local_calls: list[list[str]] = []
        self.printed: list[str] = []

    # -- builtins --------------------------------------------------------------------------
    def local_resource(self, name, cmd="", deps=None, trigger_mode=TRIGGER_MODE_AUTO, resource_deps=None,
                       ignore=None, auto_init=True, serve_cmd="", cmd_bat="", serve_cmd_bat="",
                       allow_parallel=False, links=None, tags=None, env=None, serve_env=None,
                       readiness_probe=None, dir="", serve_dir="", labels=None):
        if not isinstance(name, str) or not RESOURCE_NAME_RE.match(name):
            raise TiltfileError(f"local_resource: bad name {name!r}")
        if name in self.resources:
            raise TiltfileError(f"local_resource named {name!r} already exists")
        r = {
            "name": name,
            "cmd": cmd,
            "serve_cmd": serve_cmd,
            "cmd_argv": str_or_list(cmd, f"{name}: cmd"),
            "serve_argv": str_or_list(serve_cmd, f"{name}: serve_cmd"),
            "deps": str_or_list(deps or [], f"{name}: deps"),
            "ignore": str_or_list(ignore or [], f"{name}: ignore"),
            "resource_deps": str_or_list(resource_deps or [], f"{name}: resource_deps"),
            "trigger_mode": trigger_mode,
            "auto_init": auto_init,
            "allow_parallel": allow_parallel,
            "env": str_dict(env, f"{name}: env"),
            "serve_env": str_dict(serve_env, f"{name}: serve_env"),
            "readiness_probe": readiness_probe,
            "labels": str_or_list(labels or [], f"{name}: labels"),
            "links": [],
        }
        if not r["cmd_argv"] and not r["serve_argv"]:
            raise TiltfileError(f"{name}: local_resource needs cmd or serve_cmd")
        if trigger_mode not in (TRIGGER_MODE_AUTO, TRIGGER_MODE_MANUAL):
            raise TiltfileError(f"{name}: trigger_mode {trigger_mode!r}")
        for flag in ("auto_init", "allow_parallel"):
            if not isinstance(r[flag], bool):
                raise TiltfileError(f"{name}: {flag} must be a bool")
        for label in r["labels"]:
            if not LABEL_RE.match(label):
                raise TiltfileError(f"{name}: label {label!r} is not a valid label")
        for l in links or []:
            if isinstance(l, str):
                r["links"].append({"url": l, "name": ""})
            elif isinstance(l, dict) and l.get("__tilt__") == "link":
                r["links"].append(l)
            else:
                raise TiltfileError(f"{name}: links: {l!r} is neither a string nor a link()")
        if readiness_probe is not None:
            if not (isinstance(readiness_probe, dict) and readiness_probe.get("__tilt__") == "probe"):
                raise TiltfileError(f"{name}: readiness_probe must come from probe()")
            if not r["serve_argv"]:
                raise TiltfileError(f"{name}: readiness_probe applies to serve_cmd, and there is none")
        for d in (dir, serve_dir, cmd_bat, serve_cmd_bat, tags):
            if d:
                raise TiltfileError(f"{name}: the checker does not model dir/serve_dir/*_bat/tags")
        self.resources[name] = r
        self.order.append(name)

    @staticmethod
    def probe(initial_delay_secs=0, timeout_secs=1, period_secs=10, success_threshold=1,
              failure_threshold=3, exec=None, http_get=None, tcp_socket=None):
        actions = [a for a in (exec, http_get, tcp_socket) if a is not None]
        if len(actions) != 1:
            raise TiltfileError("probe: exactly one of exec, http_get, tcp_socket")
        kinds = {"exec": exec, "http_get": http_get, "tcp_socket": tcp_socket}
        for kind, action in kinds.items():
            if action is not None and action.get("__tilt__") != kind:
                raise TiltfileError(f"probe: {kind}= wants a {kind}_action(), got {action!r}")
        for n in ("initial_delay_secs", "timeout_secs", "period_secs", "success_threshold", "failure_threshold"):
            v = locals()[n]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise TiltfileError(f"probe: {n} must be a non-negative int")
        return {"__tilt__": "probe", "action": actions[0], "period_secs": period_secs,
                "timeout_secs": timeout_secs, "initial_delay_secs": initial_delay_secs}

    @staticmethod
    def exec_action(command):
        if not (isinstance(command, (list, tuple)) and command and all(isinstance(c, str) for c in command)):
            raise TiltfileError(f"exec_action: command must be a non-empty list of strings, got {command!r}")
        return {"__tilt__": "exec", "command": list(command)}

    @staticmethod
    def http_get_action(port, host="", scheme="http", path=""):
        if not isinstance(port, int):
            raise TiltfileError("http_get_action: port must be an int")
        return {"__tilt__": "http_get", "port": port, "host": host, "scheme": scheme, "path": path}

    @staticmethod
    def tcp_socket_action(port, host=""):
        if not isinstance(port, int):
            raise TiltfileError("tcp_socket_action: port must be an int")
        return {"__tilt__": "tcp_socket", "port": port, "host": host}

    @staticmethod
    def link(url, name=""):
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise TiltfileError(f"link: bad url {url!r}")
        return {"__tilt__": "link", "url": url, "name": name}

    @staticmethod
    def version_settings(check_updates=True, constraint=""):
        if constraint and not re.match(r"^[<>=!~^ ]*\d+\.\d+\.\d+", constraint):
            raise TiltfileError(f"version_settings: bad constraint {constraint!r}")

    def local(self, command, quiet=False, command_bat="", echo_off=False, env=None, dir="", stdin=None):
        self.local_calls.append(str_or_list(command, "local"))
        return ""

    # config.*
    def _define(self, kind):
        def define(name, args=False, usage=""):
            if self.parsed:
                raise TiltfileError("config.define_* after config.parse()")
            if name in self.flags:
                raise TiltfileError(f"config: {name} defined twice")
            self.flags[name] = kind
        return define

    def config_parse(self):
        self.parsed = True
        out: dict = {}
        args = list(self.args)
        while args:
            a = args.pop(0)
            if not a.startswith("--"):
                raise TiltfileError(f"config.parse: positional {a!r} but no flag takes args")
            key, _, value = a[2:].partition("=")
            kind = self.flags.get(key)
            if kind is None:
                raise TiltfileError(f"config.parse: flag provided but not defined: --{key}")
            if kind == "bool":
                out[key] = value.lower() in ("", "true", "1")
                continue
            if not _:
                if not args:
                    raise TiltfileError(f"config.parse: --{key} needs a value")
                value = args.pop(0)
            if kind == "string_list":
                out.setdefault(key, []).append(value)
            else:
                out[key] = value
        return out

    def os_getenv(self, key, default=None):
        return self.env.get(key, default)

    def globals(self) -> dict:
        return {
            "local_resource": self.local_resource,
            "probe": self.probe,
            "exec_action": self.exec_action,
            "http_get_action": self.http_get_action,
            "tcp_socket_action": self.tcp_socket_action,
            "link": self.link,
            "local": self.local,
            "version_settings": self.version_settings,
            "TRIGGER_MODE_AUTO": TRIGGER_MODE_AUTO,
            "TRIGGER_MODE_MANUAL": TRIGGER_MODE_MANUAL,
            "config__define_string_list": self._define("string_list"),
            "config__define_string": self._define("string"),
            "config__define_bool": self._define("bool"),
            "config__parse": self.config_parse,
            "config__main_dir": str(REPO),
            "config__main_path": str(TILTFILE),
            "config__tilt_subcommand": self.subcommand,
            "os__getenv": self.os_getenv,
            "os__getcwd": lambda: str(REPO),
            "os__path__join": lambda *parts: posixpath.join(*parts),
            "os__path__exists": lambda p: (REPO / p).exists(),
            "os__path__dirname": posixpath.dirname,
            "os__path__basename": posixpath.basename,
        }


def run_tiltfile(sl, subcommand="up", args=None, env=None) -> Tilt:
    tilt = Tilt(subcommand, args, env)
    src = flatten_module_access(Path(TILTFILE).read_text())
    # Keep the stand-ins referenced: the binding does not hold on to the Python callables.
    tilt.builtins = tilt.globals()
    interp = sl.Starlark(globals=tilt.builtins, print=tilt.printed.append)
    interp.exec(src, filename="Tiltfile")
    return tilt


# --------------------------------------------------------------------------- assertions
def workspace_binaries() -> set[str]:
    root = tomllib.loads((REPO / "Cargo.toml").read_text())
    bins = set()
    for member in root["workspace"]["members"]:
        manifest = tomllib.loads((REPO / member / "Cargo.toml").read_text())
        explicit = manifest.get("bin", [])
        bins.update(b["name"] for b in explicit)
        if not explicit and (REPO / member / "src" / "main.rs").exists():
            bins.add(manifest["package"]["name"])
    return bins


def arg_after(argv: list[str], flag: str):
    return argv[argv.index(flag) + 1] if flag in argv else None


def resolve(path: str) -> Path:
    return Path(path) if os.path.isabs(path) else REPO / path


def check_graph(t: Tilt) -> None:
    for name, r in t.resources.items():
        for dep in r["resource_deps"]:
            expect(dep in t.resources, f"{name}: resource_deps names {dep!r}, which is not a resource")
    # no cycle (Tilt refuses one)
    state: dict[str, int] = {}

    def visit(n, path):
        if state.get(n) == 1:
            problem(f"resource_deps cycle: {' -> '.join(path + [n])}")
            return
        if state.get(n) == 2 or n not in t.resources:
            return
        state[n] = 1
        for d in t.resources[n]["resource_deps"]:
            visit(d, path + [n])
        state[n] = 2

    for n in t.resources:
        visit(n, [])


def deps_closure(t: Tilt, name: str) -> set[str]:
    seen, todo = set(), [name]
    while todo:
        for d in t.resources[todo.pop()]["resource_deps"]:
            if d not in seen and d in t.resources:
                seen.add(d)
                todo.append(d)
    return seen


def check_default(t: Tilt) -> None:
    R = t.resources
    sites = ["s1", "s2"]
    expected = {"bootstrap", "build", "nats-hub", "postgres", "ingest", "preprocessing", "training",
                "signing-key", "registry", "deployment", "monitoring", "register-sites", "status",
                "train-s1"}
    for s in sites:
        expected |= {f"nats-leaf-{s}", f"gateway-{s}", f"simulate-{s}"}
    if not expect(set(R) == expected, f"resources: got {sorted(R)}, want {sorted(expected)}"):
        return
    ok(f"{len(R)} resources: {', '.join(t.order)}")
    check_graph(t)

    must_depend = {
        "nats-hub": {"bootstrap"},
        "postgres": {"bootstrap"},
        "ingest": {"build", "nats-hub", "postgres"},
        "preprocessing": {"build", "nats-hub", "postgres", "ingest"},
        "training": {"build", "nats-hub", "postgres", "ingest"},
        "train-s1": {"training", "preprocessing"},
        "signing-key": {"build"},
        "registry": {"build", "nats-hub", "postgres", "signing-key"},
        "deployment": {"build", "nats-hub", "postgres", "ingest", "registry"},
        "monitoring": {"build", "nats-hub", "postgres", "ingest"},
        "register-sites": {"ingest", "build"},
        "status": {"ingest"},
    }
    for s in sites:
        must_depend[f"nats-leaf-{s}"] = {"bootstrap", "nats-hub"}
        must_depend[f"gateway-{s}"] = {"build", f"nats-leaf-{s}", "signing-key"}
        must_depend[f"simulate-{s}"] = {"register-sites", f"gateway-{s}"}
    for name, want in must_depend.items():
        got = set(R[name]["resource_deps"])
        expect(want <= got, f"{name}: resource_deps {sorted(got)} lack {sorted(want - got)}")
    # a gateway must not wait on another site's leaf, nor on ingest (it buffers while the hub is away)
    for s in sites:
        closure = deps_closure(t, f"gateway-{s}")
        others = {f"nats-leaf-{o}" for o in sites if o != s}
        expect(not (closure & others), f"gateway-{s} waits on another site's leaf: {sorted(closure & others)}")
        expect("ingest" not in closure and "postgres" not in closure, f"gateway-{s} waits on ingest/postgres")
    ok("resource_deps: ingest <- build, nats-hub, postgres; gateway-sN <- build, nats-leaf-sN; no cycle")

    # bootstrap and build
    expect(R["bootstrap"]["cmd_argv"][-1].endswith("infra/scripts/bootstrap.sh"), "bootstrap runs infra/scripts/bootstrap.sh")
    build_cmd = " ".join(R["build"]["cmd_argv"])
    expect(re.search(r"\bcargo build\b.*--bins\b", build_cmd) is not None, f"build runs `cargo build --bins`, got {build_cmd!r}")
    crate_dirs = {"shared", "services", "edge-gateway", "cli", "migrations", "Cargo.toml", "Cargo.lock"}
    expect(crate_dirs <= set(R["build"]["deps"]), f"build deps {R['build']['deps']} lack {sorted(crate_dirs - set(R['build']['deps']))}")
    for name, r in R.items():
        for d in r["deps"]:
            p = resolve(d)
            if "/target/" in str(p):
                continue
            expect(p.exists(), f"{name}: dep {d} does not exist")
        expect(r["resource_deps"] or name in ("bootstrap", "build"), f"{name}: starts with nothing under it")
    ok("build: cargo build --bins on Cargo files and the crate dirs; all deps exist")

    # services run the workspace's binaries and restart when they change
    bins = workspace_binaries()
    target_debug = str(REPO / "target" / "debug") + "/"
    for name, r in R.items():
        for raw in (r["cmd"], r["serve_cmd"]):
            if not raw:
                continue
            # a string runs under `sh -c`: look at every word; a list is the argv itself
            words = raw.split() if isinstance(raw, str) else list(raw)
            exe = words[0]
            for word in words:
                if word.startswith(target_debug):
                    expect(word[len(target_debug):] in bins, f"{name}: runs {word}, not a binary of the workspace ({sorted(bins)})")
            if exe.startswith(str(REPO)) and "/target/" not in exe:
                p = Path(exe)
                expect(p.exists() or ".tools" in exe, f"{name}: {exe} does not exist")
                if p.exists():
                    expect(os.access(p, os.X_OK), f"{name}: {exe} is not executable")
    for name in ["ingest"] + [f"gateway-{s}" for s in sites]:
        exe = R[name]["serve_argv"][0]
        expect(exe in R[name]["deps"], f"{name}: deps {R[name]['deps']} lack its binary {exe}, so a rebuild would not restart it")
    expect(R["ingest"]["serve_argv"] == [target_debug + "edgeops-ingest"], f"ingest serve_cmd {R['ingest']['serve_argv']}")
    ok(f"services run {target_debug}{{edgeops-ingest,edgeops-edge-gateway,edgeops}} and restart on a rebuild")

    # env
    ing = R["ingest"]["serve_env"]
    expect(ing.get("EDGEOPS_NATS_URL") == HUB_URL, f"ingest EDGEOPS_NATS_URL={ing.get('EDGEOPS_NATS_URL')}")
    expect(ing.get("EDGEOPS_DATABASE_URL") == DATABASE_URL, f"ingest EDGEOPS_DATABASE_URL={ing.get('EDGEOPS_DATABASE_URL')}")
    for s in sites:
        g = R[f"gateway-{s}"]["serve_env"]
        want = f"nats://127.0.0.1:{LEAF[s][0]}"
        expect(g.get("EDGEOPS_SITE") == s and g.get("EDGEOPS_LEAF_URL") == want,
               f"gateway-{s} env EDGEOPS_SITE={g.get('EDGEOPS_SITE')} EDGEOPS_LEAF_URL={g.get('EDGEOPS_LEAF_URL')}, want {s} {want}")
        expect("EDGEOPS_LOG_FORMAT" not in g and "OTEL_EXPORTER_OTLP_ENDPOINT" not in g, f"gateway-{s}: JSON/OTLP on by default")
    ok("env: ingest -> hub 4222 + postgres 5432/edgeops; gateway-sN -> EDGEOPS_SITE, its leaf")

    # nats servers: render cmd -> serve config, ports
    hub = R["nats-hub"]
    expect(hub["cmd_argv"][1] == "hub", f"nats-hub cmd {hub['cmd_argv']}")
    expect(hub["serve_argv"][0] == str(REPO / ".tools/bin/nats-server"), f"nats-hub serve {hub['serve_argv']}")
    expect(hub["serve_argv"][1:] == ["-c", arg_after(hub["cmd_argv"], "--dir") + "/nats.conf"],
           "nats-hub serves the config its cmd rendered")
    expect(any(l["url"] == "http://127.0.0.1:8222" for l in hub["links"]), "nats-hub links http://127.0.0.1:8222")
    expect(arg_after(hub["cmd_argv"], "--client-port") == "4222" and arg_after(hub["cmd_argv"], "--monitor-port") == "8222"
           and arg_after(hub["cmd_argv"], "--leaf-port") == "7422", f"hub ports in {hub['cmd_argv']}")
    for s in sites:
        leaf = R[f"nats-leaf-{s}"]
        a = leaf["cmd_argv"]
        expect(a[1] == "leaf" and arg_after(a, "--site") == s, f"nats-leaf-{s} cmd {a}")
        expect((arg_after(a, "--client-port"), arg_after(a, "--monitor-port")) == tuple(map(str, LEAF[s])), f"nats-leaf-{s} ports in {a}")
        expect(arg_after(a, "--hub-leaf-url") == "nats-leaf://127.0.0.1:7422", f"nats-leaf-{s} hub url")
        expect(leaf["serve_argv"][1:] == ["-c", arg_after(a, "--dir") + "/nats.conf"], f"nats-leaf-{s} serves its rendered config")
        expect(any(l["url"] == f"http://127.0.0.1:{LEAF[s][1]}" for l in leaf["links"]), f"nats-leaf-{s} links its monitor")
    ok("nats: hub 4222/8222/7422, s1 4223/8223, s2 4224/8224, each serves the config it rendered")

    # readiness probes
    def action(name):
        p = R[name]["readiness_probe"]
        return p and p["action"]

    for name, port in [("nats-hub", 8222)] + [(f"nats-leaf-{s}", LEAF[s][1]) for s in sites]:
        a = action(name)
        expect(a and a["__tilt__"] == "http_get" and a["port"] == port and a["path"] == "/healthz",
               f"{name}: readiness probe {a}, want GET :{port}/healthz")
    a = action("postgres")
    expect(a and a["__tilt__"] == "exec" and a["command"][-1] == "ready" and a["command"][-2].endswith("infra/tilt/postgres.sh"),
           f"postgres: readiness {a}")
    a = action("ingest")
    expect(a and a["__tilt__"] == "exec" and a["command"][1:] == ["8222", "edgeops-ingest", "$SRV.PING.ingest"], f"ingest: readiness {a}")
    for s in sites:
        a = action(f"gateway-{s}")
        expect(a and a["__tilt__"] == "exec" and a["command"][1:] == [str(LEAF[s][1]), f"edgeops-gateway-{s}"],
               f"gateway-{s}: readiness {a}")
    for name, r in R.items():
        if r["serve_argv"] and not name.startswith("simulate-"):
            expect(r["readiness_probe"] is not None, f"{name}: a serve_cmd that others wait on needs a readiness probe")
    ok("readiness: nats /healthz, postgres.sh ready, ingest/gateways via their named connection in /connz")

    pg = R["postgres"]
    expect(pg["serve_argv"][-1] == "serve" and pg["serve_env"].get("EDGEOPS_DEV_PG_PORT") == "5432"
           and pg["serve_env"].get("EDGEOPS_DEV_PG_DB") == "edgeops", f"postgres: {pg['serve_argv']} {pg['serve_env']}")
    ok("postgres: infra/tilt/postgres.sh serve on 127.0.0.1:5432, database edgeops")

    # operator commands
    reg = R["register-sites"]
    cmd = reg["cmd"] if isinstance(reg["cmd"], str) else " ".join(reg["cmd"])
    for s in sites:
        expect(f"{target_debug}edgeops site register {s}" in cmd, f"register-sites: no `edgeops site register {s}` in {cmd!r}")
    expect(reg["env"].get("EDGEOPS_NATS_URL") == HUB_URL, "register-sites: EDGEOPS_NATS_URL")
    for s in sites:
        sim = R[f"simulate-{s}"]
        want = [target_debug + "edgeops", "simulate", "--site", s, "--leaf-url", f"nats://127.0.0.1:{LEAF[s][0]}",
                "--devices", "8", "--rate", "20"]
        expect(sim["serve_argv"] == want, f"simulate-{s}: {sim['serve_argv']}, want {want}")
        expect(sim["auto_init"] is False and sim["trigger_mode"] == TRIGGER_MODE_MANUAL, f"simulate-{s}: must be manual")
    expect(R["status"]["cmd_argv"] == [target_debug + "edgeops", "status"] and R["status"]["auto_init"] is False, "status: manual `edgeops status`")
    ok("operator: register-sites runs `edgeops site register sN`; simulate-sN and status are manual")

    # listeners do not collide
    ports = [4222, 8222, 7422, PG_PORT] + [p for s in sites for p in LEAF[s]]
    expect(len(ports) == len(set(ports)), f"ports collide: {ports}")
    expect(not t.local_calls, f"`tilt up` runs local() at load time: {t.local_calls}")


def check_variants(sl) -> None:
    t = run_tiltfile(sl, args=["--sites", "s2"])
    names = set(t.resources)
    expect(not any(n.endswith("-s1") for n in names) and {"nats-leaf-s2", "gateway-s2", "simulate-s2"} <= names,
           f"--sites s2: {sorted(names)}")
    expect(t.resources["gateway-s2"]["serve_env"]["EDGEOPS_LEAF_URL"] == "nats://127.0.0.1:4224", "--sites s2 keeps s2 on 4224")
    expect("site register s1" not in t.resources["register-sites"]["cmd"], "--sites s2 still registers s1")
    check_graph(t)
    ok("`tilt up -- --sites s2`: only s2, still on 4224/8224")

    t = run_tiltfile(sl, args=["--sites", "s1", "--sites", "plant-7"])
    a = t.resources["nats-leaf-plant-7"]["cmd_argv"]
    expect((arg_after(a, "--client-port"), arg_after(a, "--monitor-port")) == ("4225", "8225"), f"an extra site's ports: {a}")
    check_graph(t)
    ok("`--sites s1 --sites plant-7`: the extra site gets 4225/8225")

    t = run_tiltfile(sl, args=["--json-logs", "--otlp-endpoint", "http://127.0.0.1:4318"])
    for n in ("ingest", "gateway-s1", "gateway-s2"):
        e = t.resources[n]["serve_env"]
        expect(e.get("EDGEOPS_LOG_FORMAT") == "json" and e.get("OTEL_EXPORTER_OTLP_ENDPOINT") == "http://127.0.0.1:4318",
               f"{n}: --json-logs/--otlp-endpoint not passed on: {e}")
    ok("`--json-logs --otlp-endpoint URL` reach the services' env")

    t = run_tiltfile(sl, env={"CARGO_TARGET_DIR": "/tmp/elsewhere"})
    expect(t.resources["ingest"]["serve_argv"] == ["/tmp/elsewhere/debug/edgeops-ingest"], "CARGO_TARGET_DIR is honoured")

    t = run_tiltfile(sl, subcommand="down")
    expect(any(c[-1] == "stop" and c[0].endswith("infra/tilt/postgres.sh") for c in t.local_calls),
           f"`tilt down` does not remove the postgres container: {t.local_calls}")
    ok("`tilt down` runs postgres.sh stop")

    for bad in (["--sites", "bad site"], ["--sites", "s1.x"], ["--nope"]):
        try:
            run_tiltfile(sl, args=bad)
            problem(f"`tilt up -- {' '.join(bad)}` was accepted")
        except sl.StarlarkError:
            pass
    ok("bad site names and unknown flags fail the Tiltfile")


# --------------------------------------------------------------------------- shell checks
def sh(argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, **kw)


def check_scripts(t: Tilt, tmp: Path) -> dict[str, Path]:
    for script in sorted((REPO / "infra" / "tilt").glob("*.sh")):
        r = sh(["bash", "-n", str(script)])
        expect(r.returncode == 0, f"bash -n {script.name}: {r.stderr.strip()}")
        expect(os.access(script, os.X_OK), f"{script.name} is not executable")
    if shutil.which("shellcheck"):
        r = sh(["shellcheck", "-S", "warning", *map(str, (REPO / "infra" / "tilt").glob("*.sh"))])
        expect(r.returncode == 0, f"shellcheck: {r.stdout}")
    ok("infra/tilt/*.sh parse (bash -n) and are executable")

    # The render commands exactly as the Tiltfile wrote them, only the data dir moved to tmp.
    data = str(REPO / "target" / "tilt")
    confs = {}
    for name in t.order:
        r = t.resources[name]
        if not name.startswith("nats-"):
            continue
        argv = [a.replace(data, str(tmp)) for a in r["cmd_argv"]]
        res = sh(argv, cwd=REPO)
        if not expect(res.returncode == 0, f"{name}: render failed: {res.stderr.strip()}"):
            continue
        conf = Path(res.stdout.strip())
        expect(conf == Path(r["serve_argv"][2].replace(data, str(tmp))), f"{name}: rendered {conf}, serves {r['serve_argv'][2]}")
        text = conf.read_text()
        expect(re.search(r"\{\{\w+\}\}", text) is None, f"{name}: placeholder left in {conf}")
        confs[name] = conf
    hub = confs.get("nats-hub")
    if hub:
        text = hub.read_text()
        for line in ('listen: "127.0.0.1:4222"', 'http: "127.0.0.1:8222"', 'listen: "127.0.0.1:7422"', 'domain: "hub"', 'server_name: "hub"'):
            expect(line in text, f"hub config lacks {line}")
    for s, (client, monitor) in LEAF.items():
        conf = confs.get(f"nats-leaf-{s}")
        if conf:
            text = conf.read_text()
            for line in (f'listen: "127.0.0.1:{client}"', f'http: "127.0.0.1:{monitor}"', f'domain: "edge-{s}"',
                         'url: "nats-leaf://127.0.0.1:7422"', f'server_name: "edge-{s}"'):
                expect(line in text, f"leaf {s} config lacks {line}")
    # JetStream refuses a stream whose max_bytes the server's max_file_store cannot reserve:
    # READINGS at the hub takes 4 GiB, a site's raw stream 2 GiB (shared/bus topology.rs).
    for name, conf in confs.items():
        m = re.search(r"max_file_store:\s*(\d+)\s*([KMGT]?)B?\b", conf.read_text(), re.I)
        size = int(m.group(1)) * 1024 ** " KMGT".index((m.group(2) or " ").upper()) if m else 0
        need = (8 if name == "nats-hub" else 4) * 1024**3
        expect(size >= need, f"{name}: max_file_store {m.group(1) + m.group(2) + 'B' if m else 'unset'} is below {need // 1024**3} GiB, too small for its streams")
    ok(f"render-nats.sh, run as the Tiltfile runs it: {len(confs)} configs, ports, domains and store limits as intended")

    bad = sh([str(REPO / "infra/tilt/render-nats.sh"), "leaf", "--site", "a.b", "--dir", str(tmp / "bad")])
    expect(bad.returncode != 0, "render-nats.sh accepts site 'a.b'")

    nats = REPO / ".tools" / "bin" / "nats-server"
    if nats.exists():
        for name, conf in confs.items():
            r = sh([str(nats), "-t", "-c", str(conf)])
            expect(r.returncode == 0 and "is valid" in (r.stdout + r.stderr), f"nats-server -t -c {conf}: {r.stdout}{r.stderr}")
        ok(f"nats-server -t accepts all {len(confs)} rendered configs")
    else:
        problem("no .tools/bin/nats-server: run infra/scripts/bootstrap.sh (needed for `nats-server -t`)")
    return confs


def check_cli(t: Tilt, confs: dict[str, Path]) -> None:
    """Against a built `edgeops` (skipped when there is none; this never builds): the
    subcommands and flags the Tiltfile passes exist, and `edgeops nats-config` renders the
    same configs as render-nats.sh (the Tiltfile uses the script so it needs no build)."""
    edgeops = REPO / "target" / "debug" / "edgeops"
    if not edgeops.exists():
        print("  skip cli: no target/debug/edgeops (run `cargo build --bins`)")
        return
    R = t.resources
    uses = [["site", "register"], ["status"]]
    sim = R["simulate-s1"]["serve_argv"]
    uses.append(["simulate"] + [a for a in sim[2:] if a.startswith("--")])
    train = R["train-s1"]["cmd_argv"]
    uses.append(["train"] + [a for a in train[2:] if a.startswith("--")])
    for use in uses:
        sub = [a for a in use if not a.startswith("--")]
        r = sh([str(edgeops), *sub, "--help"])
        if not expect(r.returncode == 0, f"`edgeops {' '.join(sub)}` does not exist: {r.stderr.strip()[:300]}"):
            continue
        for flag in (a for a in use if a.startswith("--")):
            expect(re.search(rf"(^|\s){re.escape(flag)}\b", r.stdout, re.M) is not None, f"`edgeops {' '.join(sub)}` has no {flag}")
    helped = sh([str(edgeops), "nats-config", "hub", "--help"])
    if helped.returncode != 0:
        print("  skip nats-config comparison: this edgeops has no nats-config")
        ok("cli: `edgeops site register`, `simulate --site --leaf-url --devices --rate`, `status` exist")
        return
    for name, conf in confs.items():
        argv = R[name]["cmd_argv"]
        store = str(conf.parent / "jetstream")
        common = ["--client-port", arg_after(argv, "--client-port"), "--monitor-port", arg_after(argv, "--monitor-port"),
                  "--store-dir", store, "--max-file-store", arg_after(argv, "--max-file-store") or "20GB"]
        if argv[1] == "hub":
            cli = [str(edgeops), "nats-config", "hub", *common, "--leaf-port", arg_after(argv, "--leaf-port")]
        else:
            cli = [str(edgeops), "nats-config", "leaf", "--site", arg_after(argv, "--site"), *common,
                   "--hub-leaf-url", arg_after(argv, "--hub-leaf-url"), "--mqtt-port", arg_after(argv, "--mqtt-port")]
        r = sh(cli)
        expect(r.returncode == 0 and r.stdout.rstrip("\n") == conf.read_text().rstrip("\n"),
               f"{name}: `edgeops nats-config` and render-nats.sh differ ({r.stderr.strip()[:200]})")
    ok(f"cli: site register / simulate flags / status exist; `edgeops nats-config` renders the same {len(confs)} configs")


# --------------------------------------------------------------------------- live checks
def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def http_json(url: str):
    with urllib.request.urlopen(url, timeout=2) as r:
        return json.loads(r.read())


def wait_for(fn, secs=15.0):
    end = time.time() + secs
    while time.time() < end:
        try:
            v = fn()
            if v:
                return v
        except Exception:
            pass
        time.sleep(0.2)
    return None


def live_nats(t: Tilt, confs: dict[str, Path]) -> None:
    ports = [4222, 8222, 7422] + [p for s in LEAF for p in LEAF[s]]
    busy = [p for p in ports if not port_free(p)]
    if busy:
        print(f"  skip live nats: ports {busy} are taken (a running dev loop?)")
        return
    nats = str(REPO / ".tools" / "bin" / "nats-server")
    procs = []
    try:
        for name in ["nats-hub"] + [n for n in confs if n != "nats-hub"]:
            procs.append(subprocess.Popen([nats, "-c", str(confs[name])], stdout=subprocess.DEVNULL,
                                          stderr=open(confs[name].with_suffix(".log"), "w")))
        expect(wait_for(lambda: http_json("http://127.0.0.1:8222/healthz").get("status") == "ok"), "hub /healthz not ok")
        leaves = len(confs) - 1
        expect(wait_for(lambda: len(http_json("http://127.0.0.1:8222/leafz").get("leafs") or []) == leaves),
               f"hub /leafz does not show {leaves} leaf connections")
        for s, (_, monitor) in LEAF.items():
            expect(wait_for(lambda m=monitor: http_json(f"http://127.0.0.1:{m}/healthz").get("status") == "ok"), f"leaf {s} /healthz")
            jsz = wait_for(lambda m=monitor: http_json(f"http://127.0.0.1:{m}/jsz"))
            expect(jsz and jsz.get("config", {}).get("domain") == f"edge-{s}", f"leaf {s} JetStream domain: {jsz and jsz.get('config')}")
        probe = str(REPO / "infra/tilt/probe-connz.sh")
        expect(sh([probe, "8222", "tiltcheck-client"]).returncode != 0, "probe-connz.sh passes with no such client")
        with socket.create_connection(("127.0.0.1", 4222), timeout=3) as c:
            c.recv(4096)  # INFO
            c.sendall(b'CONNECT {"name":"tiltcheck-client","verbose":false,"pedantic":false}\r\nPING\r\n')
            expect(b"PONG" in c.recv(4096), "no PONG from the hub")
            expect(wait_for(lambda: sh([probe, "8222", "tiltcheck-client"]).returncode == 0, 5), "probe-connz.sh misses a connected client")
            expect(sh([probe, "8222", "tiltcheck-client", "$SRV.PING.tiltcheck"]).returncode != 0, "probe-connz.sh passes without the subscription")
            c.sendall(b"SUB $SRV.PING.tiltcheck 1\r\nPING\r\n")
            expect(b"PONG" in c.recv(4096), "no PONG after SUB")
            expect(wait_for(lambda: sh([probe, "8222", "tiltcheck-client", "$SRV.PING.tiltcheck"]).returncode == 0, 5),
                   "probe-connz.sh misses the subscription")
        ok(f"live: hub + {leaves} leaves start from the rendered configs, leaves link up, domains edge-sN, probe-connz.sh works")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def live_postgres() -> None:
    if not shutil.which("docker") or sh(["docker", "image", "inspect", "edgeops/postgres:15"]).returncode != 0:
        problem("live postgres: docker or the image edgeops/postgres:15 is missing (run infra/scripts/bootstrap.sh)")
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "EDGEOPS_DEV_PG_PORT": str(port), "EDGEOPS_DEV_PG_CONTAINER": f"edgeops-tiltcheck-pg-{os.getpid()}"}
    script = str(REPO / "infra/tilt/postgres.sh")
    expect(sh([script, "ready"], env=env).returncode != 0, "postgres.sh ready passes before the server runs")
    serve = subprocess.Popen([script, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ready = wait_for(lambda: sh([script, "ready"], env=env).returncode == 0, 60)
        expect(ready, "postgres.sh ready never passed")
        if ready:
            r = sh(["psql", "-X", "-tA", "-c", "SHOW fsync", f"postgres://postgres:postgres@127.0.0.1:{port}/edgeops"])
            expect(r.returncode == 0 and r.stdout.strip() == "off", f"database edgeops on 127.0.0.1:{port}: {r.stdout}{r.stderr}")
    finally:
        serve.terminate()
        try:
            out, _ = serve.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            out, _ = serve.communicate()
        left = sh(["docker", "ps", "-aq", "--filter", f"name={env['EDGEOPS_DEV_PG_CONTAINER']}"]).stdout.strip()
        expect(not left, "postgres.sh serve left its container behind after SIGTERM")
        sh([script, "stop"], env=env)
    expect(serve.returncode == 0, f"postgres.sh serve exited {serve.returncode}: {out[-2000:]}")
    ok(f"live: postgres.sh serve -> database edgeops ready (fsync=off) on 127.0.0.1:{port}; SIGTERM removes the container")


def run_probe(p: dict, env: dict) -> bool:
    a = p["action"]
    try:
        if a["__tilt__"] == "exec":
            return sh(a["command"], env=env, timeout=max(p["timeout_secs"], 1) + 2).returncode == 0
        if a["__tilt__"] == "http_get":
            url = f"{a['scheme']}://{a['host'] or 'localhost'}:{a['port']}{a['path']}"
            with urllib.request.urlopen(url, timeout=max(p["timeout_secs"], 1)) as r:
                return 200 <= r.status < 400
        with socket.create_connection((a["host"] or "localhost", a["port"]), timeout=max(p["timeout_secs"], 1)):
            return True
    except Exception:
        return False


def e2e(t: Tilt, tmp: Path) -> None:
    """A tiny Tilt: run the resources as the Tiltfile declares them (cmd, then serve_cmd with
    serve_env, then its readiness probe; in resource_deps order), bootstrap and build taken as
    done, with the data dir in tmp. Then register, simulate at s1 for a few seconds and look
    for readings in Postgres. Needs the built binaries and free ports; never builds."""
    R = t.resources
    bins = [REPO / "target/debug" / b for b in ("edgeops", "edgeops-ingest", "edgeops-edge-gateway")]
    if not all(b.exists() for b in bins):
        problem("e2e: needs target/debug/{edgeops,edgeops-ingest,edgeops-edge-gateway}: run `cargo build --bins` first")
        return
    ports = [4222, 8222, 7422, PG_PORT] + [p for s in LEAF for p in LEAF[s]]
    busy = [p for p in ports if not port_free(p)]
    if busy:
        problem(f"e2e: ports {busy} are taken (a running dev loop?)")
        return
    data = str(REPO / "target" / "tilt")
    fix = lambda argv: [a.replace(data, str(tmp)) for a in argv]  # noqa: E731
    done = {"bootstrap", "build"}
    procs: list[tuple[str, subprocess.Popen]] = []
    logs = tmp / "logs"
    logs.mkdir()

    def start(name: str) -> bool:
        r = R[name]
        if r["cmd_argv"]:
            argv = r["cmd_argv"] if isinstance(r["cmd"], list) else ["sh", "-c", r["cmd"]]
            res = sh(fix(argv), cwd=REPO, env={**os.environ, **r["env"]}, timeout=120)
            if not expect(res.returncode == 0, f"e2e {name}: cmd failed: {res.stdout[-500:]}{res.stderr[-500:]}"):
                return False
            print(f"  ..   {name}: cmd ok {res.stdout.strip()[-120:]!r}")
        if r["serve_argv"]:
            log = open(logs / f"{name}.log", "w")
            argv = r["serve_argv"] if isinstance(r["serve_cmd"], list) else ["sh", "-c", r["serve_cmd"]]
            procs.append((name, subprocess.Popen(fix(argv), cwd=REPO, env={**os.environ, **r["serve_env"]},
                                                 stdout=log, stderr=subprocess.STDOUT, start_new_session=True)))
            if r["readiness_probe"]:
                t0 = time.time()
                proc = procs[-1][1]
                ready = wait_for(lambda: proc.poll() is not None or run_probe(r["readiness_probe"], dict(os.environ)), 90)
                if not ready or proc.poll() is not None:
                    head = "\n".join((logs / f"{name}.log").read_text().splitlines()[:25])
                    why = f"exited {proc.returncode}" if proc.poll() is not None else "never ready"
                    problem(f"e2e {name}: {why}; log head:\n{head}")
                    return False
                print(f"  ..   {name}: ready after {time.time() - t0:.1f}s")
        return True

    try:
        order = [n for n in t.order if n not in done and R[n]["auto_init"]]
        while order:
            runnable = [n for n in order if set(R[n]["resource_deps"]) <= done]
            if not expect(runnable, f"e2e: stuck with {order}"):
                return
            n = runnable[0]
            if not start(n):
                return
            done.add(n)
            order.remove(n)
        if not start("simulate-s1"):
            return
        pg = f"postgres://postgres:postgres@127.0.0.1:{PG_PORT}/edgeops"
        count = wait_for(lambda: int(sh(["psql", "-X", "-tA", "-c", "SELECT count(*) FROM ingest.readings", pg]).stdout.strip() or 0), 30)
        expect(bool(count), "e2e: no readings reached Postgres from simulate-s1")
        status = sh(fix(R["status"]["cmd_argv"]), env={**os.environ, **R["status"]["env"]}, timeout=30)
        expect(status.returncode == 0, f"e2e status: {status.stderr[-500:]}")
        ok(f"e2e: all auto resources came up in resource_deps order; simulate-s1 -> {count} readings in Postgres; status ok")
    finally:
        for name, p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, 15)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, 9)
                    p.wait()
        sh([str(REPO / "infra/tilt/postgres.sh"), "stop"])


# --------------------------------------------------------------------------- main
def main() -> int:
    global TILTFILE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--live", action="store_true", help="also start nats-server and Postgres for real")
    ap.add_argument("--e2e", action="store_true",
                    help="run the whole loop as Tilt would (needs the built binaries and the dev ports free)")
    ap.add_argument("--tiltfile", type=Path, default=TILTFILE, help="check this file instead of the repo's Tiltfile")
    opts = ap.parse_args()
    TILTFILE = opts.tiltfile.resolve()

    sl = load_starlark()
    print("Tiltfile under go.starlark.net (starlark-go), `tilt up` with defaults:")
    try:
        t = run_tiltfile(sl)
    except sl.StarlarkError as e:
        print(f"  FAIL the Tiltfile does not run: {e}")
        return 1
    check_default(t)
    print("variants:")
    try:
        check_variants(sl)
    except sl.StarlarkError as e:
        problem(f"a variant does not run: {e}")
    print("shell the Tiltfile runs:")
    with tempfile.TemporaryDirectory(prefix="tiltcheck-") as tmp:
        confs = check_scripts(t, Path(tmp))
        check_cli(t, confs)
        if opts.live:
            print("live:")
            if len(confs) == 3:
                live_nats(t, confs)
            live_postgres()
        if opts.e2e:
            print("e2e:")
            e2e(t, Path(tmp))
    print()
    if PROBLEMS:
        print(f"Tiltfile check: {len(PROBLEMS)} problem(s)")
        return 1
    print("Tiltfile check: all good")
    return 0


if __name__ == "__main__":
    sys.exit(main())
