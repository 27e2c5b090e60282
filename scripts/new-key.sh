#!/usr/bin/env bash
# Prints a new random API key and its SHA-256, ready to paste into configuration.
#   scripts/new-key.sh [CLIENT_NAME] [SENDER]
# The key goes to the client (it is shown once, here); only its hash goes into appsettings.json or the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/keys.sh
name=${1:-billing}
sender=${2:-"Billing <billing@example.com>"}
if ! [[ $name =~ ^[A-Za-z0-9._-]{1,64}$ ]]; then
  echo "a client name is 1 to 64 letters, digits, '.', '_' or '-'" >&2
  exit 2
fi
key=$(new_api_key)
hash=$(key_hash "$key")
cat <<OUT
key (give it to the client; it is not stored anywhere):
  $key
hash:
  $hash

appsettings.json:
  "Clients": { "$name": { "KeyHashes": [ "$hash" ], "AllowedFrom": [ "$sender" ], "RatePerSecond": 0, "Burst": 0 } }
or the environment (API and worker alike):
  Clients__${name}__KeyHashes__0=$hash
  Clients__${name}__AllowedFrom__0='$sender'
To rotate: add the new hash as KeyHashes:1, move the client to the new key, then remove the old hash.
OUT
