#!/bin/bash
# SPDX-License-Identifier: MIT
# The front door to the integration scenarios: the same library (tests/integration/*.sh) that
# `make check` runs, through scripts/run-integration.sh (a table of PASS/SKIP/FAIL, exit 1 on
# any FAIL). stack_e2e is the whole local stack (target-demo/stack.sh) end to end.
usage() {
    cat <<'USAGE'
usage: scripts/integration-test.sh [--quick] [--no-cleanup] [--test-only] [--validate-only] [--down]
                                   [PATTERN]
  PATTERN          scenarios to run, a shell pattern over tests/integration/*.sh names
                   (default: all), e.g. 'acme_*' or '!(windows_wine|compose_docker)'
  --quick          skip the slow waits (stack_e2e: the daemons' natural ACME renewal), as
                   `make check` does
  --no-cleanup     keep every scenario's temp dir, and leave stack_e2e's stack running in
                   build/it-stack (stack.env describes it)
  --test-only      no new stack: run stack_e2e against the one in $STACK_ENV (default
                   build/it-stack/stack.env; STACK_ENV=build/demo/stack.env for a running demo)
  --validate-only  only stack_e2e's endpoint validation
  --down           stop a stack left by --no-cleanup, then exit
USAGE
}

export IT_QUICK=0
pattern=
for a in "$@"; do
    case "$a" in
    --quick) IT_QUICK=1 ;;
    --no-cleanup) export IT_NO_CLEANUP=1 IT_KEEP=1 ;;
    --test-only) export IT_TEST_ONLY=1 && pattern=stack_e2e ;;
    --validate-only) export IT_VALIDATE_ONLY=1 && pattern=stack_e2e ;;
    --down) export IT_DOWN=1 && pattern=stack_e2e ;;
    -h | --help) usage && exit 0 ;;
    -*) usage >&2 && exit 2 ;;
    *) pattern=$a ;;
    esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
make -C "$root" --no-print-directory all >&2 || exit 1
ECA_IT_ONLY=$pattern exec "$root/scripts/run-integration.sh"
