#!/bin/sh
# Lay out one service's application directory: the locked virtual environment (no dev
# dependencies, workspace packages installed as wheels, not as links to the sources), the
# reference data and the care-pathway rule set the service reads from its working directory,
# and `bin/carenet-service`, the image's entrypoint. deploy/Dockerfile runs this in its builder
# stage and tests/deploy/test_image.py runs it on the machine, so the two cannot drift.
#
#   deploy/build-app.sh SERVICE DEST     (run from anywhere; uv must be on the PATH)
#
# SERVICE: intake, routing, casework, notifications or audit. DEST is created; DEST/.venv is the
# environment (UV_PROJECT_ENVIRONMENT), so the interpreter uv picks (UV_PYTHON) must be at the
# same path where the environment runs.
set -eu
service=${1:?usage: build-app.sh SERVICE DEST}
dest=${2:?usage: build-app.sh SERVICE DEST}
repo=$(cd "$(dirname "$0")/.." && pwd)

case "$service" in
    intake | routing | casework)
        entrypoint="carenet-$service"
        # CARENET_REFERENCE_FILE's and CARENET_RULE_SET_FILE's defaults (casework reads the
        # social-service partners; its social workers come with routing's routes)
        reference="reference/demo-directory.yaml rules/nhc-2018.yaml" ;;
    notifications)
        entrypoint="carenet-$service"
        reference="rules/nhc-2018.yaml" ;;  # its rule table is the rule set's section
    audit)
        entrypoint="carenet-audit-service"  # `carenet-audit` is the auditors' command-line tool
        reference="" ;;
    *)
        echo "build-app.sh: unknown service '$service'" >&2
        exit 2 ;;
esac

mkdir -p "$dest/bin"
dest=$(cd "$dest" && pwd)
cd "$repo"
UV_PROJECT_ENVIRONMENT="$dest/.venv" uv sync --frozen --no-dev --no-editable \
    --package "carenet-$service"
for file in $reference; do
    mkdir -p "$dest/$(dirname "$file")"
    cp "$file" "$dest/$file"
done
ln -sf "../.venv/bin/$entrypoint" "$dest/bin/carenet-service"
