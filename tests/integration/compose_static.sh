#!/bin/bash
# SPDX-License-Identifier: MIT
# Quick static validation of compose/ (compose_docker.sh runs the stack on an engine):
# `docker-compose config -q`, then every file the compose file and its Dockerfiles refer to
# must exist in the repository: build contexts, Dockerfiles and their targets, COPY sources
# (and not hidden by the Dockerfile's .dockerignore), entrypoint scripts executable,
# bind-mounted host paths, and the secret files, which compose/make-secrets.sh must produce
# (0600) since they are never committed.
set -euo pipefail

ECA_ROOT=${ECA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
COMPOSE="$ECA_ROOT/compose/docker-compose.yml"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/eca-compose-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if ! command -v docker-compose >/dev/null 2>&1; then
    echo "compose_static: FAIL: docker-compose not found; run scripts/deps.sh" >&2
    exit 1
fi
[ -f "$COMPOSE" ] || { echo "compose_static: FAIL: $COMPOSE missing" >&2; exit 1; }

echo "compose_static: docker-compose config -q"
timeout 60 docker-compose -f "$COMPOSE" config -q
timeout 60 docker-compose -f "$COMPOSE" config >"$tmp/resolved.yml"
# The two ways to start it: `docker compose up` (with the override that publishes ports) and
# the host-network loopback variant, which must name no bridge network and no container address.
(cd "$ECA_ROOT/compose" && timeout 60 docker-compose config -q)
timeout 60 docker-compose -f "$COMPOSE" -f "$ECA_ROOT/compose/docker-compose.loopback.yml" config \
    >"$tmp/loopback.yml"
if grep -nE 'ipv4_address|driver: bridge|^networks:|ports:' "$tmp/loopback.yml" >&2; then
    echo "compose_static: FAIL: the loopback variant has networks, addresses or published ports" >&2
    exit 1
fi

echo "compose_static: generating secrets into a scratch dir"
timeout 30 sh "$ECA_ROOT/compose/make-secrets.sh" "$tmp/secrets" >/dev/null

echo "compose_static: checking referenced files"
timeout 60 python3 - "$ECA_ROOT" "$tmp/resolved.yml" "$tmp/secrets" <<'PY'
import fnmatch, os, re, shlex, stat, sys
import yaml

root, resolved, secrets_dir = sys.argv[1:4]
root = os.path.realpath(root)
doc = yaml.safe_load(open(resolved))
errors = []

def err(msg):
    errors.append(msg)

def inside_repo(path):
    return os.path.realpath(path).startswith(root + os.sep) or os.path.realpath(path) == root

def dockerfile_steps(path):
    """(instruction, args) per logical line, continuations joined."""
    text = open(path).read().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            yield word.upper(), rest.strip()

def ignore_allows(ignore, src):
    """True unless the .dockerignore (a '**' plus '!' allowlist) hides src."""
    if not os.path.exists(ignore):
        return True
    allowed = [l[1:].strip().rstrip("/") for l in open(ignore)
               if l.strip().startswith("!")]
    src = src.rstrip("/")
    return any(src == a or src.startswith(a + "/") or fnmatch.fnmatch(src, a) for a in allowed)

checked = set()
def check_dockerfile(ctx, dockerfile, target, svc):
    if not os.path.isfile(dockerfile):
        err(f"{svc}: dockerfile {dockerfile} missing")
        return
    steps = list(dockerfile_steps(dockerfile))
    stages = [re.split(r"\s+[aA][sS]\s+", a)[-1] for w, a in steps if w == "FROM" and
              re.search(r"\s[aA][sS]\s", a)]
    if target and target not in stages:
        err(f"{svc}: target '{target}' not in {os.path.relpath(dockerfile, root)} ({stages})")
    if dockerfile in checked:
        return
    checked.add(dockerfile)
    ignore = dockerfile + ".dockerignore"
    for word, args in steps:
        if word not in ("COPY", "ADD"):
            continue
        parts = shlex.split(args)
        if any(p.startswith("--from=") for p in parts):
            continue
        parts = [p for p in parts if not p.startswith("--")]
        for src in parts[:-1]:
            full = os.path.join(ctx, src)
            rel = os.path.relpath(full, root)
            if not os.path.exists(full):
                err(f"{os.path.relpath(dockerfile, root)}: COPY source {rel} missing")
            elif not ignore_allows(ignore, src):
                err(f"{os.path.relpath(dockerfile, root)}: COPY source {src} hidden by "
                    f"{os.path.relpath(ignore, root)}")
            elif parts[-1].startswith("/usr/local/bin/") and not os.access(full, os.X_OK):
                err(f"{rel}: copied as a command but not executable")

for name, svc in (doc.get("services") or {}).items():
    build = svc.get("build")
    if build:
        ctx = build["context"] if isinstance(build, dict) else build
        ctx = ctx if os.path.isabs(ctx) else os.path.join(root, "compose", ctx)
        if not os.path.isdir(ctx) or not inside_repo(ctx):
            err(f"{name}: build context {ctx} missing or outside the repository")
            continue
        df = os.path.join(ctx, build.get("dockerfile", "Dockerfile")) if isinstance(build, dict) \
            else os.path.join(ctx, "Dockerfile")
        check_dockerfile(ctx, df, build.get("target") if isinstance(build, dict) else None, name)
    elif not svc.get("image"):
        err(f"{name}: neither build nor image")
    for v in svc.get("volumes") or []:
        src = v.get("source") if isinstance(v, dict) else v.split(":")[0]
        vtype = v.get("type") if isinstance(v, dict) else ("bind" if src.startswith(("/", ".")) else "volume")
        if vtype == "bind":
            if not os.path.exists(src) or not inside_repo(src):
                err(f"{name}: bind-mounted host path {src} missing or outside the repository")
        elif src not in (doc.get("volumes") or {}):
            err(f"{name}: named volume {src} not declared")
    for s in svc.get("secrets") or []:
        sname = s if isinstance(s, str) else s["source"]
        if sname not in (doc.get("secrets") or {}):
            err(f"{name}: secret {sname} not declared")
    nm = svc.get("network_mode", "")
    if nm.startswith("service:") and nm[8:] not in doc["services"]:
        err(f"{name}: network_mode names unknown service {nm[8:]}")

for sname, s in (doc.get("secrets") or {}).items():
    f = s.get("file", "")
    if not f.startswith(os.path.join(root, "compose", "secrets") + os.sep):
        err(f"secret {sname}: {f} is not under compose/secrets/ (generated, never committed)")
        continue
    made = os.path.join(secrets_dir, os.path.basename(f))
    if not os.path.isfile(made):
        err(f"secret {sname}: compose/make-secrets.sh does not produce {os.path.basename(f)}")
    elif stat.S_IMODE(os.stat(made).st_mode) != 0o600:
        err(f"secret {sname}: make-secrets.sh made it mode {oct(os.stat(made).st_mode & 0o777)}")

for e in errors:
    print("compose_static: FAIL:", e, file=sys.stderr)
print(f"compose_static: {len(doc['services'])} services, {len(checked)} Dockerfiles checked")
sys.exit(1 if errors else 0)
PY
echo "compose_static: PASS"
