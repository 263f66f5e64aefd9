#!/bin/bash
# SPDX-License-Identifier: MIT
# Concurrent orders: one agent, 12 certificates, concurrency 4, over one account and one
# http-01 listener. One certificate's reload fails: it alone fails, with its own events; the
# 11 others are installed and valid, each with a complete set of events naming it. The log
# shows passes in flight at once, never more than 4; with ACME_CONCURRENCY=1 never two. TERM
# stops every worker at once. A bad concurrency is a configuration error naming the setting.
# With a fresh state_dir and the certificates installed, one account key is created, not one
# per worker looking up renewalInfo.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble

d=$IT_TMP/agent
mkdir -p "$d/out"
conf=$d/eca-acme.conf
N=12
{
    echo "ca_url = \"$PEBBLE_DIR_URL\";"
    echo "ca_bundle = \"$PEBBLE_TLS_CA\";"
    echo "state_dir = \"$d/state\";"
    echo "http01_listen = \"127.0.0.1:$PEBBLE_HTTP01_PORT\";"
    echo "log_format = \"json\";"
    echo "concurrency = 4;"
    echo "certificates = ("
    for i in $(seq "$N"); do
        reload="touch '$d/out/c$i.reloaded'"
        [ "$i" = 7 ] && reload="false" # c7's reload fails: its pass fails, no one else's
        sep=","
        [ "$i" = "$N" ] && sep=""
        echo "  { name = \"c$i\"; domains = [ \"c$i.conc.test\", \"www.c$i.conc.test\" ];"
        echo "    cert_path = \"$d/out/c$i.pem\"; key_path = \"$d/out/c$i.key\";"
        echo "    reload_command = \"$reload\"; }$sep"
    done
    echo ");"
} >"$conf"

# 1. A bad setting is a configuration error that names it.
sed 's/^concurrency = 4;/concurrency = 0;/' "$conf" >"$d/bad.conf"
rc=0; "$ECA_ACME" --config "$d/bad.conf" --check-config >"$IT_TMP/bad.log" 2>&1 || rc=$?
[ "$rc" = 2 ] || die "concurrency = 0: exit $rc, want 2"
grep -q 'concurrency' "$IT_TMP/bad.log" || die "concurrency = 0: error does not name it: $(cat "$IT_TMP/bad.log")"
rc=0; ACME_CONCURRENCY=lots "$ECA_ACME" --config "$conf" --check-config >"$IT_TMP/bad-env.log" 2>&1 ||
    rc=$?
[ "$rc" = 2 ] || die "ACME_CONCURRENCY=lots: exit $rc, want 2"
grep -q 'ACME_CONCURRENCY' "$IT_TMP/bad-env.log" || die "ACME_CONCURRENCY=lots: error does not name it"

# 2. Twelve certificates, four at once; c7 fails (exit 1), the others are installed.
rc=0; METRICS_TEXTFILE="$d/eca.prom" run_agent conc --once --config "$conf" || rc=$?
[ "$rc" = 1 ] || die "one failing certificate: exit $rc, want 1"
# A sanitizer build (ThreadSanitizer by hand, `make asan`) reports into the log.
grep -q 'Sanitizer' "$IT_TMP/conc.log" && die "sanitizer report: $(grep -m3 -A12 'Sanitizer' "$IT_TMP/conc.log")"
# The metrics the workers recorded at once: every renewal and the one failure, each its own.
[ "$(grep -c '^eca_renewals_total{.*} 1$' "$d/eca.prom")" = $((N - 1)) ] ||
    die "textfile: not $((N - 1)) renewals: $(grep '^eca_renewals_total' "$d/eca.prom")"
grep -q '^eca_renewals_total{.*cert="c7".*} 0$' "$d/eca.prom" || die "textfile: c7 renewed"
[ "$(grep '^eca_renewal_failures_total{' "$d/eca.prom" | grep -vc '} 0$')" = 1 ] ||
    die "textfile: not one failure: $(grep '^eca_renewal_failures_total{' "$d/eca.prom" | grep -v '} 0$')"
grep '^eca_renewal_failures_total{' "$d/eca.prom" | grep 'cert="c7"' | grep -q '} 1$' ||
    die "textfile: the failure is not c7's"
grep -q '"event":"agent_started".*"concurrency":4' "$IT_TMP/conc.log" || die "no concurrency 4 at start"
for i in $(seq "$N"); do
    [ "$i" = 7 ] && continue
    assert_installed "$d/out/c$i.pem" "$d/out/c$i.key" "c$i.conc.test" "www.c$i.conc.test"
    [ -e "$d/out/c$i.reloaded" ] || die "c$i: reload command did not run"
done

# Events per certificate: the 11 complete and successful, c7 failing at its reload alone; no
# event of one certificate names another (by a name or a path), one account for all.
python3 - "$IT_TMP/conc.log" "$N" 7 4 <<'PY' || die "events"
import datetime, json, sys
path, n, bad, conc = sys.argv[1], int(sys.argv[2]), "c" + sys.argv[3], int(sys.argv[4])
events = [json.loads(l) for l in open(path) if l.startswith("{")]
per = {}
for e in events:
    if e.get("cert"):
        per.setdefault(e["cert"], []).append(e)
        for k, v in e.items():  # a path or name of another certificate in this one's event
            if k != "cert" and isinstance(v, str):
                for j in range(1, n + 1):
                    other = "c%d" % j
                    if other != e["cert"] and ("/%s." % other in v or "%s.conc.test" % other in v):
                        sys.exit("event of %s names %s: %s" % (e["cert"], other, e))
want = ["cert_checked", "renew_started", "order_started", "cert_issued", "cert_installed",
        "reload_done"]
for j in range(1, n + 1):
    c = "c%d" % j
    got = [e["event"] for e in per.get(c, [])]
    if c == bad:
        fails = [e for e in per[c] if e["event"] == "renew_failed"]
        assert len(fails) == 1 and fails[0].get("step") == "reload", (c, per[c])
        assert "reload_done" not in got, got
        continue
    pos = [got.index(w) if w in got else -1 for w in want]
    assert -1 not in pos and pos == sorted(pos), (c, got)
    assert "renew_failed" not in got, (c, got)
failed = [e["cert"] for e in events if e["event"] == "renew_failed"]
assert failed == [bad], failed
acct = [e for e in events if e["event"] in ("account_ready", "account_key_created")]
assert len([e for e in acct if e["event"] == "account_ready"]) == 1, acct
assert len([e for e in acct if e["event"] == "account_key_created"]) == 1, acct

# Passes in flight at once (renew_started .. the pass's last event), from the timestamps.
def ts(e):
    return datetime.datetime.fromisoformat(e["ts"].replace("Z", "+00:00")).timestamp()
spans = []
for c, evs in per.items():
    s = [ts(e) for e in evs if e["event"] == "renew_started"]
    t = [ts(e) for e in evs if e["event"] in ("reload_done", "renew_failed")]
    assert len(s) == 1 and len(t) == 1, (c, evs)
    spans.append((s[0], t[0]))
edges = sorted([(a, 1) for a, b in spans] + [(b, -1) for a, b in spans])
cur = peak = 0
for _, step in edges:
    cur += step
    peak = max(peak, cur)
print("passes in flight at once: at most %d" % peak)
assert 2 <= peak <= conc, peak
PY

# 3. Renewals of what is installed, four at once (renewalInfo asked, "replaces" sent by each
# worker): all twelve are installed again, c7 fails again at its reload.
rc=0; run_agent renew --once --force --config "$conf" || rc=$?
[ "$rc" = 1 ] || die "renewals, one failing certificate: exit $rc, want 1"
grep -q 'Sanitizer' "$IT_TMP/renew.log" && die "sanitizer report: $(grep -m3 -A12 'Sanitizer' "$IT_TMP/renew.log")"
[ "$(grep -c '"event":"cert_installed"' "$IT_TMP/renew.log")" = "$N" ] || die "renewals: not $N installs"
[ "$(grep -c '"event":"renew_failed"' "$IT_TMP/renew.log")" = 1 ] || die "renewals: not one failure"
grep -q '"event":"renew_failed","cert":"c7"' "$IT_TMP/renew.log" || die "renewals: the failure is not c7's"
grep -q '"event":"account_ready"' "$IT_TMP/renew.log" && die "renewals: the account was set up again"

# 4. A stop request ends every worker's pass at once and no worker takes another: a daemon
# whose orders all wait out a long dns-01 propagation time is stopped with TERM.
sed 's|^concurrency = 4;|concurrency = 4;\ndns01_hook = "true";\ndns01_propagation_seconds = 60;|' \
    "$conf" >"$d/slow.conf"
bg_start slow "$ECA_ACME" --force --config "$d/slow.conf"
pid=$BG_PID
for _ in $(seq 200); do
    [ "$(grep -c '"event":"order_started"' "$IT_TMP/slow.log")" -ge 4 ] && break
    sleep 0.1
done
[ "$(grep -c '"event":"order_started"' "$IT_TMP/slow.log")" = 4 ] ||
    die "slow: not 4 orders in flight: $(grep -c '"event":"order_started"' "$IT_TMP/slow.log")"
sleep 0.5
kill -TERM "$pid"
for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && die "slow: daemon still running 3 s after TERM"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || die "slow: daemon exited $rc after TERM"
[ "$(grep -c '"event":"renew_abandoned"' "$IT_TMP/slow.log")" = 4 ] || die "slow: not 4 passes abandoned"
[ "$(grep -c '"event":"renew_started"' "$IT_TMP/slow.log")" = 4 ] || die "slow: a pass started after TERM"

# 5. Concurrency 1 is the sequential loop: never two passes at once.
rc=0; ACME_CONCURRENCY=1 run_agent seq --once --force --config "$conf" || rc=$?
[ "$rc" = 1 ] || die "concurrency 1, one failing certificate: exit $rc, want 1"
python3 - "$IT_TMP/seq.log" <<'PY' || die "concurrency 1 overlapped"
import json, sys
cur = peak = 0
for l in open(sys.argv[1]):
    if not l.startswith("{"):
        continue
    e = json.loads(l)
    if e["event"] == "renew_started":
        cur += 1
    elif e["event"] in ("reload_done", "renew_failed"):
        cur -= 1
    peak = max(peak, cur)
assert peak == 1, peak
PY
grep -c '"event":"cert_installed"' "$IT_TMP/seq.log" | grep -qx -e "$N" || die "concurrency 1: not $N installs"

# 6. A fresh state_dir, the certificates installed but c12: every worker looks up renewalInfo at
# once before any account exists, yet one account key is created and it is the one on disk
# that every worker signs with (none reloads it), for one account; c12 is ordered with it.
sed "s|$d/state|$d/fresh|" "$conf" >"$d/fresh.conf"
rm "$d/out/c12.pem"
rc=0; run_agent fresh --once --config "$d/fresh.conf" || rc=$?
[ "$rc" = 0 ] || die "fresh state_dir: exit $rc, want 0"
grep -q 'Sanitizer' "$IT_TMP/fresh.log" && die "sanitizer report: $(grep -m3 -A12 'Sanitizer' "$IT_TMP/fresh.log")"
for e in account_key_created account_ready cert_installed; do
    [ "$(grep -c "\"event\":\"$e\"" "$IT_TMP/fresh.log")" = 1 ] ||
        die "fresh state_dir: not one $e: $(grep -c "\"event\":\"$e\"" "$IT_TMP/fresh.log")"
done
grep -q '"event":"account_key_reloaded"' "$IT_TMP/fresh.log" && die "fresh state_dir: a worker held another key"
assert_installed "$d/out/c12.pem" "$d/out/c12.key" c12.conc.test www.c12.conc.test
log "PASS"
