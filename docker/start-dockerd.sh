#!/usr/bin/env bash
# Makes sure a Docker daemon answers, for machines that come with only the docker client
# (the project's development and CI machines). Does nothing where one already answers.
#
# The daemon is started without a bridge, NAT or iptables rules: this machine's network must
# not be rewired, and without docker0 there is no private-range address to talk to by mistake.
# Builds and containers then use --network host (`make docker` and tests/test_docker.py do).
set -euo pipefail

log=${DOCKERD_LOG:-/var/tmp/threadguard-dockerd.log}

if docker info >/dev/null 2>&1; then
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "start-dockerd.sh: no Docker daemon answers, and starting one needs root" >&2; exit 1; }

if ! command -v dockerd >/dev/null 2>&1; then
    # Debian's docker.io brings dockerd, containerd and runc; it leaves an existing newer
    # client in /usr/local/bin first on PATH, which talks to this daemon's older API fine.
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io
fi

# setsid: the daemon must outlive the shell (and the make) that started it.
setsid nohup dockerd \
    --host=unix:///var/run/docker.sock \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    >"$log" 2>&1 < /dev/null &

for _ in $(seq 60); do
    if docker info >/dev/null 2>&1; then
        echo "start-dockerd.sh: dockerd $(docker info --format '{{.ServerVersion}}') is up (log: $log)"
        exit 0
    fi
    sleep 0.5
done
echo "start-dockerd.sh: dockerd did not answer within 30 s; its log ($log) ends:" >&2
tail -n 20 "$log" >&2
exit 1
