#!/usr/bin/env bash
# Replays the Dockerfile's install and start steps in a clean temp folder (no Docker engine needed):
# build stage npm ci + build, runtime stage npm ci --omit=dev, start, /healthz, HEALTHCHECK, SIGTERM.
# Run by .ci/run; exits non-zero when any step fails. KEEP_REPLAY=1 keeps the folder for a look.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx scripts/docker-replay.ts "$@"
