#!/usr/bin/env bash
# Generates the Python gRPC stubs of coop's wire contract (proto/src/main/proto/coop/v1/coop.proto)
# into coop_client/_generated/ (git-ignored), with Debian's protoc and grpc_python_plugin, whose
# output matches Debian's python3-protobuf and python3-grpcio (see clients/python/README.md).
# Run it after every change to the .proto; the tests' conftest runs it too.
#   PROTOC [protoc], GRPC_PYTHON_PLUGIN [/usr/bin/grpc_python_plugin]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
proto="$(cd "$here/../../proto/src/main/proto" && pwd)"
out="$here/coop_client/_generated"
protoc="${PROTOC:-protoc}"
plugin="${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}"
command -v "$protoc" >/dev/null || { echo "generate.sh: needs protoc (apt-get install protobuf-compiler)" >&2; exit 1; }
[ -x "$plugin" ] || { echo "generate.sh: needs $plugin (apt-get install protobuf-compiler-grpc)" >&2; exit 1; }
# Into a fresh folder, then moved into place: a reader never imports half a set of stubs.
tmp="$(mktemp -d "$here/coop_client/.generated.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$protoc" -I "$proto" --python_out="$tmp" --grpc_out="$tmp" --plugin=protoc-gen-grpc="$plugin" coop/v1/coop.proto
# A package of coop_client's own (coop_client._generated.coop.v1) rather than a top-level "coop"
# on sys.path: the service stubs import their messages relatively.
touch "$tmp/__init__.py" "$tmp/coop/__init__.py" "$tmp/coop/v1/__init__.py"
sed -i 's/^from coop\.v1 import coop_pb2 as /from . import coop_pb2 as /' "$tmp/coop/v1/coop_pb2_grpc.py"
grep -q '^from \. import coop_pb2 as ' "$tmp/coop/v1/coop_pb2_grpc.py" \
  || { echo "generate.sh: grpc_python_plugin's import line changed; adjust the sed above" >&2; exit 1; }
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
