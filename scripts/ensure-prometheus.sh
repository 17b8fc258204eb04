#!/usr/bin/env bash
# Makes sure prometheus, promtool and prometheus-pushgateway (Debian's
# packages) are installed: the tests backfill and start a real Prometheus,
# and push to a real Pushgateway that it scrapes. Installs them when missing
# and we are root; otherwise says how.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 &&
  command -v prometheus-pushgateway >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "prometheus/promtool/prometheus-pushgateway are missing: install them with 'sudo apt-get install -y prometheus prometheus-pushgateway'" >&2
  exit 1
fi
echo "installing Debian's prometheus and prometheus-pushgateway packages (for the tests)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus prometheus-pushgateway >/dev/null
command -v promtool >/dev/null
command -v prometheus-pushgateway >/dev/null
