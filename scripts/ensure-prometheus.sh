#!/usr/bin/env bash
# Makes sure prometheus and promtool (Debian's package `prometheus`),
# victoria-metrics and vmalert (Debian's package `victoria-metrics`) and
# prometheus-pushgateway (Debian's package of that name) are installed: the
# tests backfill and start a real Prometheus, import into and start a real
# VictoriaMetrics, and push to a real Pushgateway that Prometheus scrapes.
# Installs them when missing and we are root; otherwise says how.
set -euo pipefail
missing=()
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  missing+=(prometheus)
fi
if ! command -v victoria-metrics >/dev/null 2>&1 || ! command -v vmalert >/dev/null 2>&1; then
  missing+=(victoria-metrics)
fi
if ! command -v prometheus-pushgateway >/dev/null 2>&1; then
  missing+=(prometheus-pushgateway)
fi
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "${missing[*]} missing (the tests start them): install with 'sudo apt-get install -y --no-install-recommends ${missing[*]}'" >&2
  exit 1
fi
echo "installing Debian's ${missing[*]} package(s) (for the tests)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v promtool >/dev/null
command -v vmalert >/dev/null
command -v prometheus-pushgateway >/dev/null
