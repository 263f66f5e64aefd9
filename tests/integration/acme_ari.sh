#!/bin/bash
# SPDX-License-Identifier: MIT
# ACME Renewal Information (RFC 9773) and profiles end to end, --once runs against pebble.
# Debian's pebble 2.4 has neither, so tests/support/acme_ari_proxy.py stands in front of it and
# answers as pebble 2.10 does (renewalInfo in the directory, a renewalInfo window this script
# chooses, meta.profiles, the echo of profile and replaces, invalidProfile, alreadyReplaced); it
# forwards everything else to the real pebble unchanged. See the proxy's docstring for the detail.
#   - a past ARI window renews a certificate whose lifetime is far from the threshold, and the
#     order carries replaces = the certID of the certificate renewed (checked with openssl's
#     view of its AKI and serial), sent with eca-acme's User-Agent;
#   - a future window does not renew; garbage or a failing renewalInfo falls back to the
#     lifetime threshold (renews at 99%, not at 33%);
#   - alreadyReplaced: the order goes again without replaces; profiles: the requested profile is
#     sent and its echo logged; an unknown one is a configuration error naming the offered ones.
. "$(dirname "$0")/lib.sh"
it_init
start_pebble --validity 900

start_acme_proxy '{"ari":"future","profiles":null}'
plog=$PROXY_LOG

d=$IT_TMP/agent
agent_env "$d"
export CA_URL="$PROXY_DIR_URL"
export DOMAIN_NAME=ari.test HTTP01_LISTEN="127.0.0.1:$PEBBLE_HTTP01_PORT"

certid() { python3 "$ECA_ROOT/tests/support/acme_ari_proxy.py" certid "$1"; }
# The proxy's log lines for one kind of request, since line $2 (1-based).
requests() { tail -n +"$2" "$plog" | grep -F "\"path\": \"$1" || true; }
mark() { echo $(($(wc -l <"$plog") + 1)); }

run_agent first --once || die "first run exited $?"
assert_installed "$CERT_PATH" "$KEY_PATH" ari.test
s1=$(cert_serial "$CERT_PATH")
id1=$(certid "$CERT_PATH")
log "issued $s1, certID $id1"

# A future window: nothing to do, the window is logged, the GET carries our User-Agent.
m=$(mark)
run_agent future --once || die "future-window run exited $?"
[ "$(cert_serial "$CERT_PATH")" = "$s1" ] || die "a future ARI window renewed"
grep -q '"decision":"none"' "$IT_TMP/future.log" || die "future window: no decision none"
grep -q '"event":"ari_window"' "$IT_TMP/future.log" || die "future window: no ari_window event"
ari=$(requests /draft-ietf-acme-ari-03/renewalInfo/ "$m")
[ -n "$ari" ] || die "no renewalInfo request reached the proxy"
grep -qF "\"cert_id\": \"$id1\"" <<<"$ari" || die "renewalInfo asked for the wrong certID: $ari"
grep -q '"user_agent": "eca-acme/' <<<"$ari" || die "renewalInfo without eca-acme's User-Agent"
grep -q '"status": 200' <<<"$ari" || die "renewalInfo not answered 200: $ari"
[ -s "$d/state/ari.test.ari" ] || die "the chosen renewal time was not persisted"
grep -qF -e "$id1" "$d/state/ari.test.ari" || die "persisted choice is not for $id1"

# Garbage (end before start): the threshold applies, so 33% of 900 s is far away: no renewal.
proxy_control '{"ari":"garbage","profiles":null}'
run_agent garbage --once || die "garbage run exited $?"
[ "$(cert_serial "$CERT_PATH")" = "$s1" ] || die "a garbage ARI answer renewed"
grep -q '"event":"ari_failed"' "$IT_TMP/garbage.log" || die "garbage: no ari_failed warning"
grep -q 'the lifetime threshold applies' "$IT_TMP/garbage.log" || die "garbage: no fallback note"

# ... and the threshold still works when renewalInfo fails: 99% of 900 s is due after 9 s (a
# certificate the threshold already wants renewed is renewed without asking renewalInfo).
proxy_control '{"ari":"error","profiles":null}'
sleep 10
RENEWAL_THRESHOLD_PERCENT=99 run_agent fallback --once || die "fallback run exited $?"
s2=$(cert_serial "$CERT_PATH")
[ "$s2" != "$s1" ] || die "a failing renewalInfo blocked the threshold renewal"
grep -q '"reason":"threshold"' "$IT_TMP/fallback.log" || die "fallback: not renewed by threshold"
id2=$(certid "$CERT_PATH")

# A past window (a revoked certificate's answer): renew now, with replaces = the old certID.
proxy_control '{"ari":"past","profiles":null}'
m=$(mark)
run_agent past --once || die "past-window run exited $?"
assert_installed "$CERT_PATH" "$KEY_PATH" ari.test
s3=$(cert_serial "$CERT_PATH")
[ "$s3" != "$s2" ] || die "a past ARI window did not renew"
grep -q '"reason":"suggested"' "$IT_TMP/past.log" || die "past window: reason is not suggested"
grep -q '"explanation_url":"https://ca.test/incident/ari-test"' "$IT_TMP/past.log" ||
    die "explanationURL not logged"
orders=$(requests /order-plz "$m")
grep -qF "\"replaces\": \"$id2\"" <<<"$orders" || die "newOrder lacks replaces=$id2: $orders"
grep -q '"status": 201' <<<"$orders" || die "newOrder with replaces refused: $orders"
id3=$(certid "$CERT_PATH")

# alreadyReplaced: the agent orders once more without replaces and renews all the same.
proxy_control '{"ari":"past","profiles":null,"already_replaced":true}'
m=$(mark)
run_agent replaced --once || die "alreadyReplaced run exited $?"
s4=$(cert_serial "$CERT_PATH")
[ "$s4" != "$s3" ] || die "alreadyReplaced stopped the renewal"
# The proxy notes a request from its own thread: give the last line a moment to land.
for _ in $(seq 50); do
    orders=$(requests /order-plz "$m" | grep -v '"status": 400' || true)
    [ "$(grep -c . <<<"$orders")" -ge 2 ] && break
    sleep 0.1
done
[ "$(grep -c . <<<"$orders")" = 2 ] || die "want two newOrders (with, then without replaces): $orders"
head -n 1 <<<"$orders" | grep -qF "\"replaces\": \"$id3\"" || die "first order lacks replaces"
head -n 1 <<<"$orders" | grep -q '"status": 409' || die "first order was not refused"
tail -n 1 <<<"$orders" | grep -q '"replaces": null' || die "second order still carries replaces"
grep -q '"event":"acme_replaces_refused"' "$IT_TMP/replaced.log" || die "no replaces_refused log"

# Profiles: the requested one is sent, echoed and logged; an unknown one names what is offered.
profiles='{"classic":"The default","shortlived":"Six days"}'
proxy_control "{\"ari\":\"future\",\"profiles\":$profiles}"
m=$(mark)
ACME_PROFILE=shortlived run_agent profile --once --force || die "profile run exited $?"
[ "$(cert_serial "$CERT_PATH")" != "$s4" ] || die "profile run did not renew"
requests /order-plz "$m" | grep -q '"profile": "shortlived"' || die "newOrder lacks the profile"
grep -q '"event":"order_profile".*"profile":"shortlived"' "$IT_TMP/profile.log" ||
    die "the echoed profile was not logged"
[ "$(cat "$d/state/ari.test.profile")" = shortlived ] || die "echoed profile not kept for status"
timeout 20 "$ECA_ACME" status >"$IT_TMP/status-profile.out" 2>&1 || true
grep -qx '  profile:   shortlived' "$IT_TMP/status-profile.out" || die "status: no profile line"
timeout 20 "$ECA_ACME" status --json 2>&1 | grep -q '"profile":"shortlived"' ||
    die "status --json: no profile"
grep -q '"profile":"shortlived"' "$d/state/status.json" || die "status.json: no profile"
rc=0
ACME_PROFILE=nonesuch run_agent badprofile --once --force || rc=$?
# A configuration error, found at start before any order: exit 2.
[ "$rc" = 2 ] || die "unknown profile: exit $rc, want 2"
grep -q "profile 'nonesuch' is not offered by the CA (it offers: classic, shortlived)" \
    "$IT_TMP/badprofile.log" || die "unknown profile: the offered profiles are not named"
proxy_control '{"ari":"future","profiles":null}'
ACME_PROFILE=shortlived run_agent noprofiles --once --force || die "no-profiles run exited $?"
grep -q '"event":"profile_unsupported"' "$IT_TMP/noprofiles.log" ||
    die "a CA without profiles: no warning"
rc=0
ACME_PROFILE=shortlived ACME_PROFILE_REQUIRED=true run_agent required --once --force || rc=$?
[ "$rc" = 2 ] || die "profile_required at a CA without profiles: exit $rc, want 2"
grep -q 'the CA offers no profiles (profile_required = true)' "$IT_TMP/required.log" ||
    die "profile_required: no error naming it"
log "PASS"
