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

# ---- TPM: swtpm gets a real machine's PCRs from its boot log, the agent
# attests with EK credential activation, the token is verified (docs/tpm.md) ----
if [ -x "$attestd" ]; then
  echo
  echo "== TPM: swtpm replays a real RHEL 8 boot log; 'vouch tpm attest' with EK activation =="
  if ! command -v swtpm >/dev/null || ! command -v swtpm_setup >/dev/null; then
    echo "demo: swtpm/swtpm_setup not installed (scripts/deps.sh)" >&2
    fail=1
  else
    tw=$(mktemp -d)
    tpid=
    spid=
    # Waits only for its own processes: the service section's daemon is
    # stopped by its own cleanup, which runs after this one.
    tpm_cleanup() {
      for p in $tpid $spid; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
      done
      rm -rf "$tw"
    }
    if declare -F cleanup >/dev/null; then trap 'tpm_cleanup; cleanup' EXIT; else trap tpm_cleanup EXIT; fi
    tlog="$data/tpm/eventlogs/rhel8-uefi.bin"
    mkdir -p "$tw/ca" "$tw/state"
    printf 'statedir = %s\nsigningkey = %s\nissuercert = %s\ncertserial = %s\n' "$tw/ca" \
      "$tw/ca/signkey.pem" "$tw/ca/issuercert.pem" "$tw/ca/certserial" >"$tw/localca.conf"
    printf -- '--platform-manufacturer Vouch\n--platform-version 2.1\n--platform-model demo\n' \
      >"$tw/localca.options"
    printf 'create_certs_tool = %s\ncreate_certs_tool_config = %s\ncreate_certs_tool_options = %s\n' \
      "$(command -v swtpm_localca)" "$tw/localca.conf" "$tw/localca.options" >"$tw/setup.conf"
    swtpm_setup --tpm2 --tpmstate "$tw/state" --createek --create-ek-cert --pcr-banks sha1,sha256 \
      --config "$tw/setup.conf" --overwrite >"$tw/setup.log" 2>&1 || { cat "$tw/setup.log" >&2; fail=1; }
    cat "$tw/ca/swtpm-localca-rootca-cert.pem" "$tw/ca/issuercert.pem" >"$tw/ek-roots.pem" 2>/dev/null || true
    tcti=
    for _ in 1 2 3 4 5; do
      tport=$((20000 + RANDOM % 40000))
      swtpm socket --tpm2 --tpmstate dir="$tw/state" \
        --server type=tcp,port=$tport,bindaddr=127.0.0.1 --ctrl type=tcp,port=$((tport + 1)),bindaddr=127.0.0.1 \
        --flags not-need-init,startup-clear >"$tw/swtpm.log" 2>&1 &
      spid=$!
      for _ in $(seq 30); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$tport") 2>/dev/null; then tcti="swtpm:host=127.0.0.1,port=$tport"; break 2; fi
        kill -0 "$spid" 2>/dev/null || break
        sleep 0.1
      done
      kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; spid=
    done
    if [ -z "$tcti" ]; then
      echo "demo: swtpm did not start" >&2
      fail=1
    else
      echo "swtpm on $tcti: $("$vouch" tpm extend --tcti "$tcti" "$tlog")"
      head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tw/admin-token"
      chmod 600 "$tw/admin-token"
      aport=$((20000 + RANDOM % 40000))
      turl="https://127.0.0.1:$aport"
      # Real time (no --eval-time): the EK certificate was issued a moment ago.
      "$attestd" --listen "127.0.0.1:$aport" --data "$tw/data" --issuer "$turl" \
        --admin-token-file "$tw/admin-token" --tpm-ek-roots "$tw/ek-roots.pem" 2>"$tw/attestd.log" &
      tpid=$!
      for _ in $(seq 100); do
        curl -fsS --cacert "$tw/data/tls/cert.pem" "$turl/healthz" >/dev/null 2>&1 && break
        sleep 0.1
      done
      tb64u() { basenc --base64url -w0 | tr -d '='; }
      tpol='version=1.0; authorizationrules { [type=="secureBootEnabled", value==true] && [type=="aikValidated", value==true] => permit(); }; issuancerules { => issue(type="PlatformAttested", value=true); };'
      printf 'eyJhbGciOiJub25lIn0.%s.' "$(printf '{"AttestationPolicy":"%s"}' "$(printf '%s' "$tpol" | tb64u)" | tb64u)" >"$tw/pol.jws"
      curl -fsS -o /dev/null --cacert "$tw/data/tls/cert.pem" -X PUT -H "Authorization: Bearer $(cat "$tw/admin-token")" \
        -H 'Content-Type: text/plain' --data-binary @"$tw/pol.jws" "$turl/policies/Tpm?api-version=2020-10-01" || fail=1
      echo "TPM policy: $tpol"
      curl -fsS --cacert "$tw/data/tls/cert.pem" "$turl/certs" >"$tw/certs.json" || fail=1
      if "$vouch" tpm attest --tcti "$tcti" --service "$turl" --cacert "$tw/data/tls/cert.pem" \
        --log "$tlog" --pcrs sha256:0-9,14 --ek-activation >"$tw/tpm.jwt" 2>"$tw/agent.err" &&
        out=$("$vouch" token verify "$tw/tpm.jwt" --jwks "$tw/certs.json" --issuer "$turl" --json); then
        echo "agent -> token verified by 'vouch token verify' (alg $(jq -r .alg <<<"$out")):"
        jq -c '.claims | {"x-ms-attestation-type", "x-ms-tpm-ak-trust", aikValidated, secureBootEnabled, PlatformAttested, exitBootServices, cnf_kty: .cnf.jwk.kty}' <<<"$out" | sed 's/^/    /'
        jq -c '.claims."x-ms-tpm-pcrs".sha256 | {"0": ."0", "4": ."4", "7": ."7"}' <<<"$out" | sed 's/^/    PCRs (quoted, equal to the log replay): /'
        jq -r '.claims.kernelCmdline' <<<"$out" | cut -c1-90 | sed 's/^/    kernelCmdline: /'
      else
        echo "TPM attestation failed: $(cat "$tw/agent.err")" >&2
        fail=1
      fi
      # The same agent with one boot application's digest changed in the log.
      cp "$tlog" "$tw/tampered.bin"
      chmod u+w "$tw/tampered.bin"
      printf '\x5a' | dd of="$tw/tampered.bin" bs=1 seek=23079 conv=notrunc status=none
      "$vouch" tpm attest --tcti "$tcti" --service "$turl" --cacert "$tw/data/tls/cert.pem" \
        --log "$tw/tampered.bin" --pcrs sha256:0-9,14 --ek-activation >/dev/null 2>"$tw/agent.err" || true
      echo "tampered boot log -> $(sed 's/^vouch: //' "$tw/agent.err")"
    fi
  fi
fi

# ---- Enclaves: the sample enclave (signed with a development key at build
# time) in the software TEE: measure, run, attest through the service, verify
# the token, seal and unseal, attested TLS to the enclave (docs/enclave-sdk.md) ----
sample_host="$build/vouch-sample-host"
sample_image="$build/vouch_sample.enclave"
if [ -x "$attestd" ]; then
  echo
  echo "== Enclave: the sample enclave in the Vouch software TEE (simulation-grade evidence) =="
  if [ ! -x "$sample_host" ] || [ ! -f "$sample_image" ] || [ ! -x "$build/vouch-enclave-loader" ]; then
    echo "demo: the sample enclave is not built ($sample_host, $sample_image)" >&2
    fail=1
  else
    ew=$(mktemp -d)
    epid=
    enclave_cleanup() {
      if [ -n "$epid" ]; then
        kill "$epid" 2>/dev/null || true
        wait "$epid" 2>/dev/null || true
      fi
      rm -rf "$ew"
    }
    # Keep the earlier sections' cleanups.
    eprev=$(trap -p EXIT)
    eprev=${eprev#trap -- \'}
    eprev=${eprev%\' EXIT}
    # shellcheck disable=SC2064 # the earlier handlers are captured now, on purpose
    trap "enclave_cleanup; ${eprev:-:}" EXIT
    # A throw-away platform (software TEE CA, platform key, seal secret)
    # instead of the user's ~/.local/share/vouch/platform.
    ehost() { "$sample_host" --platform-dir "$ew/platform" "$sample_image" "$@"; }
    "$vouch" enclave measure --json "$sample_image" >"$ew/measure.json"
    emr=$(jq -r .measurement "$ew/measure.json")
    echo "signed image $(basename "$sample_image"): $(jq -c '{measurement, signer_id, product_id, security_version, debug}' "$ew/measure.json")"
    echo "ecall + ocall: $(ehost greet demo 2>&1 | tr '\n' ' ')"
    echo "identity the loader measured: $(ehost identity | jq -c '{measurement: (.measurement[0:16] + "…"), svn: .security_version}')"
    cp "$sample_image" "$ew/tampered.enclave"
    printf '\x5a' | dd of="$ew/tampered.enclave" bs=1 seek=3000 conv=notrunc status=none
    if "$sample_host" --platform-dir "$ew/platform" "$ew/tampered.enclave" greet x >/dev/null 2>"$ew/tampered.err"; then
      echo "demo: a tampered image started" >&2
      fail=1
    fi
    # The loader's reason from the log line, else the host's own message.
    why=$(sed -n 's/.*msg="enclave: \(.*\)"$/\1/p' "$ew/tampered.err" | head -1)
    echo "image with one code byte changed -> ${why:-$(tail -1 "$ew/tampered.err")}"

    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$ew/admin-token"
    chmod 600 "$ew/admin-token"
    eport=$((20000 + RANDOM % 40000))
    eurl="https://127.0.0.1:$eport"
    # Real time (no --eval-time): the platform certificate was made a moment ago.
    "$attestd" --listen "127.0.0.1:$eport" --data "$ew/data" --issuer "$eurl" \
      --admin-token-file "$ew/admin-token" --sim-ca "$ew/platform/ca.pem" 2>"$ew/attestd.log" &
    epid=$!
    for _ in $(seq 100); do
      curl -fsS --cacert "$ew/data/tls/cert.pem" "$eurl/healthz" >/dev/null 2>&1 && break
      sleep 0.1
    done
    curl -fsS --cacert "$ew/data/tls/cert.pem" "$eurl/certs" >"$ew/certs.json" || fail=1
    printf 'version=1.0; authorizationrules { [type=="x-ms-sgx-mrenclave", value=="%s"] => permit(); }; issuancerules { c:[type=="x-ms-sgx-mrenclave"] => issue(type="mrenclave", value=c.value); };' \
      "$emr" >"$ew/policy.txt"
    # The service's SimEnclave policy, set by its administrator (an unsigned
    # policy JWS, as in the TPM section): only this measurement is admitted.
    eb64u() { basenc --base64url -w0 | tr -d '='; }
    printf 'eyJhbGciOiJub25lIn0.%s.' "$(printf '{"AttestationPolicy":"%s"}' "$(eb64u <"$ew/policy.txt")" | eb64u)" >"$ew/policy.jws"
    curl -fsS -o /dev/null --cacert "$ew/data/tls/cert.pem" -X PUT -H "Authorization: Bearer $(cat "$ew/admin-token")" \
      -H 'Content-Type: text/plain' --data-binary @"$ew/policy.jws" "$eurl/policies/SimEnclave?api-version=2020-10-01" || fail=1
    echo "SimEnclave policy: permit only mrenclave ${emr:0:16}…"
    if ehost attest --service "$eurl" --cacert "$ew/data/tls/cert.pem" \
      >"$ew/sample.jwt" 2>"$ew/attest.err" &&
      out=$("$vouch" token verify "$ew/sample.jwt" --jwks "$ew/certs.json" --issuer "$eurl" --json); then
      sed 's/^attest: /    /' "$ew/attest.err"
      echo "SimEnclave token verified by 'vouch token verify' (alg $(jq -r .alg <<<"$out")):"
      jq -c '.claims | {"x-ms-attestation-type", "x-ms-sgx-is-debuggable", "x-ms-sgx-mrenclave", "x-ms-sgx-product-id", "x-ms-sgx-svn", "x-ms-runtime"}' <<<"$out" | sed 's/^/    /'
      if [ "$(jq -r '.claims."x-ms-sgx-mrenclave"' <<<"$out")" != "$emr" ]; then
        echo "demo: the token's mrenclave is not the signed image's" >&2
        fail=1
      fi
    else
      echo "enclave attestation failed: $(cat "$ew/attest.err")" >&2
      fail=1
    fi
    printf 'version=1.0; authorizationrules { [type=="x-ms-sgx-mrenclave", value=="%064d"] => permit(); };' 0 \
      >"$ew/other.txt"
    echo "draft policy for another measurement -> $(ehost attest --service "$eurl" --cacert "$ew/data/tls/cert.pem" \
      --policy "$ew/other.txt" 2>&1 >/dev/null | tail -1 | sed 's/^attest: //')"

    printf 'the database password' >"$ew/secret"
    if ehost seal unique "$ew/secret" "$ew/secret.sealed" && ehost unseal "$ew/secret.sealed" "$ew/secret.out" &&
      cmp -s "$ew/secret" "$ew/secret.out"; then
      echo "sealed $(wc -c <"$ew/secret") bytes to the measurement -> $(wc -c <"$ew/secret.sealed")-byte blob -> unsealed: \"$(cat "$ew/secret.out")\""
    else
      echo "demo: seal/unseal failed" >&2
      fail=1
    fi
    cp "$ew/secret.sealed" "$ew/bad.sealed"
    printf '\x01' | dd of="$ew/bad.sealed" bs=1 seek=70 conv=notrunc status=none
    echo "blob with one byte changed -> $(ehost unseal "$ew/bad.sealed" "$ew/bad.out" 2>&1 | tail -1)"

    if out=$(ehost tls --sim-ca "$ew/platform/ca.pem" --mrenclave "$emr" --message "hello, enclave" 2>"$ew/tls.err"); then
      echo "attested TLS, server end inside the enclave, certificate evidence checked by the client:"
      jq -c '{verified, mrenclave: (.mrenclave[0:16] + "…"), key_hash_in_report_data: (.report_data[0:16] + "…")}' <<<"$out" | sed 's/^/    /'
      jq -r '.reply' <<<"$out" | sed 's/^/    enclave replied: /'
    else
      echo "attested TLS failed: $(cat "$ew/tls.err")" >&2
      fail=1
    fi
    echo "attested TLS expecting another measurement -> $(ehost tls --sim-ca "$ew/platform/ca.pem" \
      --mrenclave "$(printf '%064d' 0)" 2>&1 >/dev/null | head -1 | sed 's/^tls: //')"
  fi
fi
exit $fail
