# API keys: "ntf_" + 43 base62 characters (256 bits from /dev/urandom), and the lowercase hex SHA-256 the
# configuration holds (Clients:<name>:KeyHashes). Sourced by new-key.sh and up.sh.

new_api_key() {
  local chars
  chars=$(LC_ALL=C tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 43)
  printf 'ntf_%s' "$chars"
}

key_hash() {
  printf '%s' "$1" | sha256sum | cut -d' ' -f1
}
