#!/bin/sh
# SPDX-License-Identifier: MIT
# Prometheus with its scrape targets and listen address from the environment.
set -eu

mkdir -p /tmp/eca-targets
printf '[{"targets": ["%s"]}]\n' "${ACME_METRICS_TARGET:-eca-acme:4231}" >/tmp/eca-targets/eca-acme.json
printf '[{"targets": ["%s"]}]\n' "${EST_METRICS_TARGET:-client:4232}" >/tmp/eca-targets/eca-est.json
exec /usr/bin/prometheus --config.file=/etc/prometheus/prometheus.yml \
    --storage.tsdb.path=/var/lib/prometheus/metrics2 \
    --web.listen-address="${LISTEN_ADDR:-0.0.0.0}:${PROMETHEUS_PORT:-9090}"
