#!/bin/bash
# SPDX-License-Identifier: MIT
# `make check` runs the integration harness in its quick form: the whole local stack on ports
# picked at run time, endpoint validation and every scenario (scripts/integration-test.sh).
exec "$(dirname "$0")/../../scripts/integration-test.sh" --quick
