#!/bin/sh
# Start the Docker engine if it does not answer, then wait until `docker info` works.
# Idempotent: does nothing when the engine already answers. Used by the Makefile and CI.
set -u
LOG=${DOCKERD_LOG:-/tmp/dockerd.log}
TIMEOUT=${DOCKERD_TIMEOUT:-60}
if docker info >/dev/null 2>&1; then
    exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
    echo "start_dockerd: dockerd is not installed (Debian/Ubuntu: apt-get install docker.io)" >&2
    exit 1
fi
if [ "$(id -u)" != 0 ]; then
    echo "start_dockerd: the engine is down and only root can start it (sudo $0)" >&2
    exit 1
fi
# another caller may be starting it right now: only start if no dockerd process exists
if ! pgrep -x dockerd >/dev/null 2>&1; then
    nohup dockerd >"$LOG" 2>&1 &
fi
i=0
while [ "$i" -lt "$TIMEOUT" ]; do
    if docker info >/dev/null 2>&1; then
        exit 0
    fi
    sleep 1
    i=$((i + 1))
done
echo "start_dockerd: the engine did not answer within ${TIMEOUT}s; see $LOG" >&2
tail -n 20 "$LOG" >&2 2>/dev/null
exit 1
