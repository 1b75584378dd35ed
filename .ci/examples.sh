#!/usr/bin/env bash
# CI step for the examples (issue 13): each examples/*/ the way a user copies it, against the packed tarball rather
# than the sources. Packs once, copies each example to a scratch directory, installs its locked dependencies with
# the tarball in place of `file:../..`, and runs its `npm test`.
#   bash .ci/examples.sh                  # every example
#   bash .ci/examples.sh cap-app          # only the ones named
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/*.tgz)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(for d in examples/*/package.json; do basename "$(dirname "$d")"; done))
for name in "${names[@]}"; do
  echo "examples ci: $name"
  mkdir "$work/$name"
  tar -C "examples/$name" --exclude=node_modules -c . | tar -C "$work/$name" -x
  (
    cd "$work/$name"
    npm pkg set "devDependencies.btp-connectivity-emulator=file:$tarball"
    npm install --prefer-offline --ignore-scripts --no-audit --no-fund --loglevel=error
    npm test
  )
done
echo "examples ci: all passed (${names[*]})"
