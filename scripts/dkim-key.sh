#!/usr/bin/env bash
# DKIM keys: make one and print its DNS record and configuration, or print the records of every configured key.
#   scripts/dkim-key.sh DOMAIN SELECTOR [--ed25519] [--out DIR]   a new key (RSA 2048 unless --ed25519) in DIR (default keys/)
#   scripts/dkim-key.sh                                           the TXT record of every key in Dkim:Keys (appsettings.json)
# The private key stays in its file (mode 600, in .gitignore's keys/); it is never printed.
set -euo pipefail
cd "$(dirname "$0")/.."

public_key() { # FILE → the record's p= value
  local der
  der=$(openssl pkey -in "$1" -pubout -outform DER | base64 -w0)
  if openssl pkey -in "$1" -noout -text 2>/dev/null | head -1 | grep -qi ed25519; then
    # RFC 8463: the raw 32-byte key, not its SubjectPublicKeyInfo.
    openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0
  else
    echo "$der"
  fi
}

key_type() { openssl pkey -in "$1" -noout -text 2>/dev/null | head -1 | grep -qi ed25519 && echo ed25519 || echo rsa; }

record() { # DOMAIN SELECTOR FILE
  printf '%s._domainkey.%s  TXT  "v=DKIM1; k=%s; p=%s"\n' "$2" "$1" "$(key_type "$3")" "$(public_key "$3")"
}

if [ $# -eq 0 ]; then
  python3 - <<'PY' | while IFS=$'\t' read -r domain selector file; do
import json
keys = json.load(open("appsettings.json")).get("Dkim", {}).get("Keys", [])
for k in keys:
    print(f"{k.get('Domain','')}\t{k.get('Selector','')}\t{k.get('KeyFile','')}")
PY
    path=$file # a relative KeyFile is read from here (the repository root); the worker reads it from its own folder: prefer absolute paths
    if [ ! -r "$path" ]; then
      echo "$selector._domainkey.$domain: key file $path not readable here" >&2
      continue
    fi
    record "$domain" "$selector" "$path"
  done
  exit 0
fi

domain=${1:-}; selector=${2:-}; shift 2 || { echo "usage: scripts/dkim-key.sh DOMAIN SELECTOR [--ed25519] [--out DIR]" >&2; exit 2; }
algorithm=rsa; out=keys
while [ $# -gt 0 ]; do
  case "$1" in
    --ed25519) algorithm=ed25519 ;;
    --out) out=$2; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if ! [[ $domain =~ ^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$ ]]; then
  echo "'$domain' is not a domain name" >&2; exit 2
fi
if ! [[ $selector =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]]; then
  echo "'$selector' is not a DNS label" >&2; exit 2
fi
mkdir -p "$out"
file="$(realpath "$out")/$domain.$selector.pem"
if [ -e "$file" ]; then
  echo "$file exists: choose another selector (a new key is a new selector)" >&2; exit 1
fi
umask 077
if [ "$algorithm" = ed25519 ]; then
  openssl genpkey -algorithm ed25519 -out "$file" 2>/dev/null
else
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$file" 2>/dev/null
fi
cat <<OUT
key file (keep it out of the repository; mount it read-only):
  $file

DNS record to publish before the key signs:
  $(record "$domain" "$selector" "$file")

appsettings.json (Dkim:Keys; add NotBefore to let it take over at a time of your choosing):
  { "Domain": "$domain", "Selector": "$selector", "KeyFile": "$file" }
or the environment (worker):
  Dkim__Keys__N__Domain=$domain  Dkim__Keys__N__Selector=$selector  Dkim__Keys__N__KeyFile=$file
OUT
