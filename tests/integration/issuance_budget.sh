#!/bin/bash
# SPDX-License-Identifier: MIT
# The issuance budget: with issuance_budget = 2, two forced renewals are issued and the third
# is refused before any order (issuance_budget_exhausted naming when the window frees), the
# metric shows 0 left, `status` says so and exits 1; --override-budget lets one through and
# is logged; a missing certificate is still refused (the budget protects the CA). eca-est the
# same with ISSUANCE_BUDGET=1 and ISSUANCE_BUDGET_OVERRIDE=true.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_estca.sh"
. "$(dirname "$0")/lib_est.sh"
it_init
[ -x "$ECA_EST" ] || die "build eca-est first ($ECA_EST)"
start_pebble

A=$IT_TMP/acme
mkdir -p "$A/out" "$A/state"
cat >"$A/agent.conf" <<CONF
ca_url = "$PEBBLE_DIR_URL";
ca_bundle = "$PEBBLE_TLS_CA";
state_dir = "$A/state";
http01_listen = "127.0.0.1:$PEBBLE_HTTP01_PORT";
metrics_textfile = "$A/eca.prom";
issuance_budget = 2;
certificates = (
  { name = "web"; domains = [ "web.test" ];
    cert_path = "$A/out/web.pem"; key_path = "$A/out/web.key"; }
);
CONF
budget_metric() { sed -n 's/^eca_issuance_budget_remaining{.*cert="web"} //p' "$A/eca.prom"; }

run_agent f1 --config "$A/agent.conf" --once --force || die "first forced renewal: exit $?"
[ "$(budget_metric)" = 1 ] || die "after one: budget metric '$(budget_metric)', want 1"
run_agent f2 --config "$A/agent.conf" --once --force || die "second forced renewal: exit $?"
[ "$(budget_metric)" = 0 ] || die "after two: budget metric '$(budget_metric)', want 0"
serial=$(cert_serial "$A/out/web.pem")
rc=0; run_agent f3 --config "$A/agent.conf" --once --force || rc=$?
[ "$rc" = 1 ] || die "third forced renewal over budget: exit $rc, want 1"
grep -q '"event":"issuance_budget_exhausted","cert":"web".*"budget":2,"issued":2,"frees_at":"20' \
    "$IT_TMP/f3.log" || die "no issuance_budget_exhausted naming when the window frees"
grep -q '"event":"order_started"' "$IT_TMP/f3.log" && die "ordered over budget"
[ "$(cert_serial "$A/out/web.pem")" = "$serial" ] || die "the certificate changed over budget"
[ "$(budget_metric)" = 0 ] || die "refused: budget metric '$(budget_metric)', want 0"
grep -q 'eca_renewal_failures_total{.*cert="web",cause="EAGAIN"} 1' "$A/eca.prom" ||
    die "the refusal is not counted as a failure"
rc=0; "$ECA_ACME" --config "$A/agent.conf" status >"$IT_TMP/status.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "status over budget: exit $rc, want 1"
grep -q 'issuance budget exhausted' "$IT_TMP/status.txt" || die "status does not say so"
grep -q 'budget' <("$ECA_ACME" --config "$A/agent.conf" status --json) ||
    die "status --json does not say so"
[ "$(grep -c . "$A/state/web.issued")" = 3 ] || die "issue times not persisted"

# The operator's override: one more, logged.
run_agent o1 --config "$A/agent.conf" --once --force --override-budget ||
    die "override: exit $?"
grep -q '"event":"issuance_budget_override","cert":"web"' "$IT_TMP/o1.log" ||
    die "the override is not logged"
[ "$(cert_serial "$A/out/web.pem")" != "$serial" ] || die "override: no new certificate"
assert_installed "$A/out/web.pem" "$A/out/web.key" web.test
"$ECA_ACME" --config "$A/agent.conf" status >"$IT_TMP/status2.txt" 2>&1 ||
    die "status after the override: not healthy"

# A missing certificate still counts against the budget: refused, nothing ordered.
rm -f "$A/out/web.pem" "$A/out/web.key"
rc=0; run_agent m1 --config "$A/agent.conf" --once || rc=$?
[ "$rc" = 1 ] || die "missing certificate over budget: exit $rc, want 1"
grep -q '"event":"issuance_budget_exhausted","cert":"web".*"issued":3' "$IT_TMP/m1.log" ||
    die "missing certificate: no issuance_budget_exhausted"
grep -q '"event":"order_started"' "$IT_TMP/m1.log" && die "ordered over budget (missing)"
n=$(grep -c 'Added order "' "$IT_TMP/pebble.log" || true)
[ "$n" = 3 ] || die "pebble created $n orders, want 3"

log "eca-est: ISSUANCE_BUDGET=1"
# 30-day certificates: no scheduled renewal within a week adds to the budget.
EST_VALIDITY=2592000 start_est_ca
E=$IT_TMP/est
est_env "$E"
export ISSUANCE_BUDGET=1
run_est e1 --once --force || die "eca-est first enrollment: exit $?"
rc=0; run_est e2 --once --force || rc=$?
[ "$rc" = 1 ] || die "eca-est over budget: exit $rc, want 1"
grep -q '"event":"issuance_budget_exhausted","cert":"edge-client"' "$IT_TMP/e2.log" ||
    die "eca-est: no issuance_budget_exhausted"
rc=0; "$ECA_EST" status >"$IT_TMP/est-status.txt" 2>&1 || rc=$?
[ "$rc" = 1 ] || die "eca-est status over budget: exit $rc, want 1"
ISSUANCE_BUDGET_OVERRIDE=true run_est e3 --once --force || die "eca-est override: exit $?"
grep -q '"event":"issuance_budget_override","cert":"edge-client"' "$IT_TMP/e3.log" ||
    die "eca-est: the override is not logged"
n=$(grep -cE '"POST /\.well-known/est/simple(re)?enroll[^"]*" 200' "$IT_TMP/est-ca.log" || true)
[ "$n" = 2 ] || die "the EST CA enrolled $n times, want 2"
est_assert_installed "$CERT_PATH" "$KEY_PATH"
log "PASS"
