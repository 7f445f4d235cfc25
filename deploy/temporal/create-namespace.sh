#!/bin/sh
# One-shot job (temporalio/admin-tools): wait until the Temporal cluster answers its health
# check, then create the namespace threadwork uses unless it exists (an existing namespace,
# with any retention changed by hand, is left alone). The plain server image does not create
# one, unlike the retired auto-setup image.
set -eu
address=${TEMPORAL_ADDRESS:-temporal:7233}
namespace=${NAMESPACE:-default}
retention=${NAMESPACE_RETENTION:-72h}

attempt=0
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  if [ "$attempt" -ge 30 ]; then
    echo "Temporal at $address did not become healthy after $attempt attempts" >&2
    exit 1
  fi
  sleep 2
done

if temporal operator namespace describe --address "$address" -n "$namespace" >/dev/null 2>&1; then
  echo "namespace $namespace exists"
else
  temporal operator namespace create --address "$address" -n "$namespace" --retention "$retention"
  echo "namespace $namespace created (retention $retention)"
fi
