#!/bin/sh
# A self-signed certificate for trying the ssl demo on this machine (not for production):
# server.key and server.crt in the current directory (or in the directory given), for
# localhost and 127.0.0.1, valid for 30 days.
set -eu
dir="${1:-.}"
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$dir/server.key" -out "$dir/server.crt" -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
echo "wrote $dir/server.key and $dir/server.crt"
