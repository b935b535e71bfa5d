#!/usr/bin/env bash
# System packages some tests need, from Debian's registry (the only one besides npm here):
#   python3-boto3  - proves the local stack speaks the real AWS protocols to boto3 (Debian's 1.26,
#                    which predates AWS_ENDPOINT_URL; the machine's own python3 may have a newer one)
#   awscli         - the AWS CLI 2.9 (/usr/bin/aws) against the local stack, with --endpoint-url
#   chromium       - opens the monitoring report in a real headless browser
# Installed only when missing; needs root (CI runs as root). Without root, the tests that need
# them say so in their output instead of passing silently.
set -euo pipefail
need=()
/usr/bin/python3 -c 'import boto3' 2>/dev/null || need+=(python3-boto3)
[ -x /usr/bin/aws ] || need+=(awscli)
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    echo "install-system-deps: not root and no sudo, skipping: ${need[*]}" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-system-deps: installing ${need[*]}" >&2
$sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || {
  $sudo apt-get update >/dev/null
  $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
}
