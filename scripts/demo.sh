#!/usr/bin/env bash
# The end-to-end demonstration on embedded defaults: verify every real
# hardware vector at its stated evaluation time and print a table.
set -euo pipefail
build=${1:-build/release}
data=${2:-../shared/testdata}
vouch="$build/vouch"
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=vectors.sh
. "$here/vectors.sh"

if [ ! -d "$data/evidence" ]; then
  echo "demo: test data not found at $data (set TESTDATA=...)" >&2
  exit 1
fi

echo "== Vouch evidence verification: real hardware vectors, verified offline =="
printf '%-3s %-4s %-9s %-34s %-34s %s\n' ID TEE VERIFIED STATUS ADVISORIES MEASUREMENT
fail=0
for v in "${VOUCH_VECTORS[@]}"; do
  IFS='|' read -r id ev aux now expect <<<"$v"
  case "$id" in
    N*) extra=(--vcek "$data/$aux") ;;
    *) extra=(--collateral "$data/$aux") ;;
  esac
  out=$("$vouch" evidence verify "$data/$ev" "${extra[@]}" --at "$now" --json || true)
  fmt=$(jq -r .format <<<"$out")
  verified=$(jq -r .verified <<<"$out")
  status=$(jq -r .status <<<"$out")
  adv=$(jq -r '.advisories | if length == 0 then "-" elif length > 2 then (.[0:2] | join(",")) + " +\(length - 2)" else join(",") end' <<<"$out")
  meas=$(jq -r '.claims.mrenclave // .claims.mr_td // .claims.measurement // "-"' <<<"$out")
  if [ "$fmt" = snp ]; then
    dbg=$(jq -r '.claims.debug' <<<"$out")
    status="(no vendor status) debug=$dbg"
  fi
  printf '%-3s %-4s %-9s %-34s %-34s %.24s…\n' "$id" "$fmt" "$verified" "$status" "$adv" "$meas"
  if [ "$verified" != true ] || { [ "$expect" != None ] && [ "$status" != "$expect" ]; }; then
    echo "    unexpected: wanted $expect ($(jq -r '.error // ""' <<<"$out"))" >&2
    fail=1
  fi
done
echo
echo "Expired collateral is reported, not hidden (S1 one month after its window):"
"$vouch" evidence verify "$data/evidence/sgx/v3_phala_quote.bin" \
  --collateral "$data/evidence/sgx/v3_phala_collateral.json" --at 2025-08-01T00:00:00Z --json |
  jq -c '{verified, status, collateral_expired, expired_item, error}' || true

# ---- The attestation service: attest real evidence, verify the tokens ----
attestd="$build/vouch-attestd"
if [ -x "$attestd" ]; then
  echo
  echo "== vouch-attestd: Azure Attestation API on https://127.0.0.1, real vectors at a fixed time =="
  work=$(mktemp -d)
  pid=
  cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
  trap cleanup EXIT
  mkdir -p "$work/collateral"
  cp "$data/evidence/sgx/v3_phala_collateral.json" "$data/evidence/tdx/v4_phala_collateral.json" \
    "$work/collateral/"
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/admin-token"
  chmod 600 "$work/admin-token"
  port=$((20000 + RANDOM % 30000))
  url="https://127.0.0.1:$port"
  "$attestd" --listen "127.0.0.1:$port" --data "$work/data" --issuer "$url" \
    --collateral "$work/collateral" --eval-time 1751328000 \
    --admin-token-file "$work/admin-token" 2>"$work/attestd.log" &
  pid=$!
  for _ in $(seq 100); do
    curl -fsS --cacert "$work/data/tls/cert.pem" "$url/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  b64u() { basenc --base64url -w0 | tr -d '='; }
  attest() { # TYPE BODY-FILE -> token
    curl -fsS --cacert "$work/data/tls/cert.pem" -H 'content-type: application/json' \
      --data-binary @"$2" "$url/attest/$1?api-version=2022-08-01" | jq -r .token
  }
  curl -fsS --cacert "$work/data/tls/cert.pem" "$url/certs" >"$work/certs.json"
  printf '{"quote":"%s"}' "$(b64u <"$data/evidence/sgx/v3_phala_quote.bin")" >"$work/s1.json"
  printf '{"quote":"%s"}' "$(b64u <"$data/evidence/tdx/v4_phala_quote.bin")" >"$work/t1.json"
  vcek_pem=$(openssl x509 -inform der -in "$data/evidence/snp/milan_v2_gosev_vcek.der")
  inner=$(printf '{"SnpReport":"%s","VcekCertChain":"%s"}' \
    "$(b64u <"$data/evidence/snp/milan_v2_gosev_report.bin")" "$(printf '%s\n' "$vcek_pem" | b64u)")
  printf '{"report":"%s"}' "$(printf '%s' "$inner" | b64u)" >"$work/n1.json"
  for t in "SgxEnclave s1 S1" "TdxVm t1 T1" "SevSnpVm n1 N1"; do
    read -r type body id <<<"$t"
    if ! tok=$(attest "$type" "$work/$body.json") || [ -z "$tok" ] || [ "$tok" = null ]; then
      echo "$id: attestation failed" >&2
      fail=1
      continue
    fi
    printf '%s' "$tok" >"$work/$id.jwt"
    if out=$("$vouch" token verify "$work/$id.jwt" --jwks "$work/certs.json" --issuer "$url" \
      --at 1751328000 --json); then
      echo "$id -> $type token verified by 'vouch token verify' (alg $(jq -r .alg <<<"$out"), kid $(jq -r .kid <<<"$out" | cut -c1-12)…):"
      jq -c '.claims | with_entries(select(.key | test("^(x-ms-attestation-type|x-ms-sgx-mrenclave|x-ms-sgx-is-debuggable|tdx_mrtd|attester_tcb_status|x-ms-sevsnpvm-is-debuggable|x-ms-sevsnpvm-launchmeasurement|x-ms-policy-hash)$")))' <<<"$out" |
        sed 's/^/    /'
    else
      echo "$id: token did not verify: $(jq -r .error <<<"$out")" >&2
      fail=1
    fi
  done
  # A tampered quote is refused with Azure's error shape.
  cp "$data/evidence/sgx/v3_phala_quote.bin" "$work/bad.bin"
  printf '\x01' | dd of="$work/bad.bin" bs=1 seek=200 conv=notrunc status=none
  printf '{"quote":"%s"}' "$(b64u <"$work/bad.bin")" >"$work/bad.json"
  echo "tampered SGX quote -> $(curl -sS --cacert "$work/data/tls/cert.pem" -H 'content-type: application/json' \
    --data-binary @"$work/bad.json" "$url/attest/SgxEnclave?api-version=2022-08-01" | jq -c .error)"
fi
exit $fail
