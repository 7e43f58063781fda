#!/usr/bin/env bash
# Screenshots of pslwarden's HTML pages for the built-in demo org, to look at while changing them.
#
# Builds the binary, runs it with no config in a scratch folder (the built-in simulated org), so
# that it writes the scan report (report.html), the usage report (usage.html) and, when this tree
# has them, the apply and rollback pages (apply.html, rollback.html); then a second simulated org
# with example prices and January 2026 calls (scan-priced, usage-january); then renders each page
# with headless Chromium at 1400 px into PNGs in a folder it prints at the end.
#
# Usage: scripts/screenshots.sh [OUT_DIR]
#   OUT_DIR   where the PNGs (and a copy of each page) go; default: a new folder under /tmp.
# Environment: CHROMIUM (default: chromium on PATH, else /usr/bin/chromium); WIDTH (1400),
#   HEIGHT (2400); PSLWARDEN_BIN (a binary already built: no cargo build); CARGO_BUILD_JOBS is
#   passed to cargo as usual.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
width="${WIDTH:-1400}"
height="${HEIGHT:-2400}"

chromium="${CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$chromium" && -x /usr/bin/chromium ]]; then
  chromium=/usr/bin/chromium
fi
if [[ -z "$chromium" || ! -x "$chromium" ]]; then
  echo "screenshots.sh: headless Chromium not found (looked for \$CHROMIUM, chromium on PATH, /usr/bin/chromium)." >&2
  echo "  Install Debian's package: apt-get install -y chromium   (or set CHROMIUM=/path/to/chromium)" >&2
  exit 1
fi

out="${1:-$(mktemp -d /tmp/pslwarden-screenshots.XXXXXX)}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

if [[ -n "${PSLWARDEN_BIN:-}" ]]; then
  bin="$PSLWARDEN_BIN"
else
  echo "building pslwarden ..." >&2
  (cd "$root" && cargo build --quiet --bin pslwarden)
  bin="$root/target/debug/pslwarden"
fi
if [[ ! -x "$bin" ]]; then
  echo "screenshots.sh: no pslwarden binary at $bin" >&2
  exit 1
fi

# A scratch working folder with no config/pslwarden.toml: the binary uses the built-in demo org
# and writes reports/ and state/ here, never into the repository.
work="$(mktemp -d /tmp/pslwarden-demo.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cd "$work"
unset PSLWARDEN_CONFIG

run() {
  # A command that fails is reported and skipped: the pages that were written still get shot.
  if ! "$bin" "$@" >"$work/last.out" 2>"$work/last.err"; then
    echo "note: \`pslwarden $*\` failed; its page is skipped:" >&2
    sed 's/^/  /' "$work/last.err" >&2
    return 1
  fi
}

run scan || true
run usage || true
run_id=""
if run apply --yes --format json; then
  run_id="$(sed -n 's/^ *"run_id": *\([0-9][0-9]*\).*/\1/p' "$work/last.out" | head -n 1)"
fi
if [[ -n "$run_id" ]]; then
  run rollback --run "$run_id" --yes || true
fi

# The newest file of each name: apply --yes scans again and writes a second report.html, so the
# scan's own page is the oldest one.
page() {
  local name="$1" order="$2"
  find "$work/reports" -name "$name" -printf '%T@ %p\n' 2>/dev/null | sort -n "$order" \
    | head -n 1 | cut -d' ' -f2-
}

shot() {
  local name="$1" file="$2"
  if [[ -z "$file" || ! -f "$file" ]]; then
    echo "skip: no $name page in this tree" >&2
    return 0
  fi
  cp "$file" "$out/$name.html"
  local profile
  profile="$(mktemp -d /tmp/pslwarden-chromium.XXXXXX)"
  if ! timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
      --no-first-run --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$profile" --window-size="$width,$height" \
      --screenshot="$out/$name.png" "file://$out/$name.html" >"$work/chromium.log" 2>&1; then
    echo "screenshots.sh: Chromium could not render $name.html:" >&2
    sed 's/^/  /' "$work/chromium.log" >&2
    rm -rf "$profile"
    exit 1
  fi
  rm -rf "$profile"
  echo "$out/$name.png"
}

shot scan "$(page report.html -n)"
shot usage "$(page usage.html -rn)"
shot apply "$(page apply.html -rn)"
shot rollback "$(page rollback.html -rn)"

# The built-in demo has no prices and no calls, so its pages show no money and an empty usage
# chart. A second simulated org, from the voice-calls fixture (seats and January 2026 calls) with
# example prices, shows both. Its pages are marked SIMULATED ORG like the demo's.
mkdir -p "$work/priced"
cd "$work/priced"
cat > pslwarden.toml <<TOML
[defaults]
reports_dir = "reports"
state_path = "state/pslwarden.sqlite"

[[org]]
name = "priced-demo"
mode = "dry-run"
[org.simulator]
fixture = "$root/mocks/fixtures/voice-calls.json"
[org.auth]
flow = "jwt"
consumer_key = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg"
username = "pslwarden.integration@seed-example.org"
private_key_file = "$root/mocks/keys/demo-only-jwt-private.pem"
[org.window]
always_open = true
[org.usage]
time_zone = "Europe/London"
# Example prices, for the screenshots only.
[org.prices]
currency = "USD"
scv_minute = 0.0135
[org.prices.seat_monthly]
ServiceCloudVoicePsl = 50.00
ServiceCloudVoiceExternalTelephonyPsl = 25.00
[org.prices.telephony]
inbound = 0.0018
outbound = 0.0090
TOML
export PSLWARDEN_CONFIG="$work/priced/pslwarden.toml"
run scan || true
run usage --from 2026-01-01 --to 2026-01-31 || true
unset PSLWARDEN_CONFIG
priced_page() {
  find "$work/priced/reports" -name "$1" 2>/dev/null | sort | tail -n 1
}
shot scan-priced "$(priced_page report.html)"
shot usage-january "$(priced_page usage.html)"

echo "screenshots in $out" >&2
