#!/bin/sh
# PressFlow container entrypoint (also usable outside Docker: it only needs `pressflow`
# and `gunicorn` on PATH).
#
#   entrypoint.sh [web]     pressflow init, then gunicorn webapp.wsgi:app on $PRESSFLOW_BIND
#   entrypoint.sh worker    pressflow init, then `pressflow worker`
#   entrypoint.sh timers    pressflow init, then `pressflow run-timers`
#   entrypoint.sh CMD ...   exec CMD ... as is (no init), e.g. `sh` or `pressflow init --demo`
#
# Environment:
#   PRESSFLOW_DATABASE_URL   database (default: the app's sqlite file under instance/)
#   PRESSFLOW_SECRET_KEY     session secret (required by the app in production)
#   PRESSFLOW_SEED_DEMO=1    also seed the demo organisation (`pressflow init --demo`)
#   PRESSFLOW_SKIP_INIT=1    skip `pressflow init` (migrations + process deployment)
#   PRESSFLOW_BIND           gunicorn bind address (default 0.0.0.0:8000)
#   PRESSFLOW_WEB_WORKERS    gunicorn worker processes (default 4)
#   PRESSFLOW_ACCESS_LOG     gunicorn access log target (default "-" = stdout; "" disables)
set -eu

# Run from the project root (/app in the image) so that relative paths such as
# processes/ and instance/ resolve the same way in and out of the container.
cd "$(dirname "$0")/.."

log() {
    printf '[entrypoint] %s\n' "$*" >&2
}

pressflow_init() {
    if [ "${PRESSFLOW_SKIP_INIT:-0}" = "1" ]; then
        log "PRESSFLOW_SKIP_INIT=1: skipping pressflow init"
        return 0
    fi
    if [ "${PRESSFLOW_SEED_DEMO:-0}" = "1" ]; then
        log "pressflow init --demo"
        pressflow init --demo
    else
        log "pressflow init"
        pressflow init
    fi
}

if [ "$#" -eq 0 ]; then
    set -- web
fi

case "$1" in
    web)
        shift
        pressflow_init
        # --no-control-socket exists only in newer gunicorn releases: pass it when known.
        if gunicorn --help 2>/dev/null | grep -q -- 'control-socket'; then
            set -- --no-control-socket "$@"
        fi
        access_log=${PRESSFLOW_ACCESS_LOG--}
        if [ -n "$access_log" ]; then
            set -- --access-logfile "$access_log" "$@"
        fi
        log "gunicorn on ${PRESSFLOW_BIND:-0.0.0.0:8000} with ${PRESSFLOW_WEB_WORKERS:-4} workers"
        exec gunicorn \
            --bind "${PRESSFLOW_BIND:-0.0.0.0:8000}" \
            --workers "${PRESSFLOW_WEB_WORKERS:-4}" \
            "$@" \
            webapp.wsgi:app
        ;;
    worker)
        shift
        pressflow_init
        exec pressflow worker "$@"
        ;;
    timers)
        shift
        pressflow_init
        exec pressflow run-timers "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
