#!/usr/bin/env bash
# Install one pinned kubectl release into DIR and put DIR on the job's PATH, after checking the binary
# against the SHA-256 published beside it. Usage: install_kubectl.sh vX.Y.Z DIR
set -euo pipefail

usage="usage: install_kubectl.sh vX.Y.Z DIR"
version=${1:?$usage}
dir=${2:?$usage}
if [[ ! $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "error: kubectl version '$version' is not vX.Y.Z" >&2
  exit 2
fi
case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "error: no kubectl build for $(uname -m)" >&2; exit 2 ;;
esac

base="https://dl.k8s.io/release/${version}/bin/linux/${arch}"
download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
fetch() { curl --fail --silent --show-error --location --proto '=https' --retry 3 --max-time 120 -o "$2" "$1"; }
fetch "$base/kubectl" "$download/kubectl"
fetch "$base/kubectl.sha256" "$download/kubectl.sha256"
echo "$(<"$download/kubectl.sha256")  $download/kubectl" | sha256sum --check --strict --quiet -

mkdir -p "$dir"
install -m 0755 "$download/kubectl" "$dir/kubectl"
"$dir/kubectl" version --client
if [[ -n ${GITHUB_PATH:-} ]]; then
  echo "$dir" >>"$GITHUB_PATH"
fi
