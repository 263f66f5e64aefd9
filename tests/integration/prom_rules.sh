#!/bin/bash
# SPDX-License-Identifier: MIT
# Prometheus side of the metrics: the alert rules parse, their unit tests pass, and both
# Prometheus configurations (local demo and compose) are valid. Needs promtool (package prometheus).
set -euo pipefail

ECA_ROOT=${ECA_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ECA_ROOT/target-demo/prometheus"

if ! command -v promtool >/dev/null 2>&1; then
    echo "prom_rules: FAIL: promtool not found; run scripts/deps.sh (package prometheus)" >&2
    exit 1
fi

echo "prom_rules: promtool check rules"
timeout 60 promtool check rules eca-alerts.yml
echo "prom_rules: promtool test rules"
timeout 120 promtool test rules eca-alerts.test.yml
echo "prom_rules: promtool check config (demo)"
timeout 60 promtool check config prometheus.yml
if [ -f "$ECA_ROOT/compose/prometheus/prometheus.yml" ]; then
    # The compose file mounts the same rule file next to its own prometheus.yml.
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/eca-prom-XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    cp "$ECA_ROOT/compose/prometheus/prometheus.yml" eca-alerts.yml "$tmp/"
    echo "prom_rules: promtool check config (compose)"
    (cd "$tmp" && timeout 60 promtool check config prometheus.yml)
fi
echo "prom_rules: PASS"
