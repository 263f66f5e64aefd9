#!/bin/sh
# SPDX-License-Identifier: MIT
# Mosquitto with the listen address and port of the environment.
set -eu

conf=$(mktemp /tmp/mosquitto.XXXXXX)
sed -e "s/@LISTEN_ADDR@/${LISTEN_ADDR:-0.0.0.0}/" -e "s/@MQTT_PORT@/${MQTT_PORT:-4214}/" \
    /etc/mosquitto/eca.conf >"$conf"
exec /usr/sbin/mosquitto -c "$conf"
