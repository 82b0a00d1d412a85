// Runs the official @azure/attestation client, exactly as npm ships it, against
// vouch-attestd over HTTPS (tests/integration/azure_js.sh starts the service and
// sets NODE_EXTRA_CA_CERTS to its self-signed TLS certificate).
//
// Inputs, from the environment:
//   VOUCH_URL          the service's issuer URL (https://127.0.0.1:PORT)
//   VOUCH_ADMIN_TOKEN  the bearer token the service was started with
//   VOUCH_QUOTE        a real SGX DCAP quote the service has collateral for
//   VOUCH_INSPECT      `vouch evidence inspect --json` output for that quote
//   VOUCH_EVAL_TIME    the service's fixed evaluation time (Unix seconds)
//   VOUCH_FOREIGN_CERT a PEM certificate of an unrelated RSA key
//
// Token time checks: the service signs tokens at its fixed evaluation time
// (iat = VOUCH_EVAL_TIME, exp = iat + 8 h) because the quote's collateral is only
// valid then, so checking exp against today's clock must fail. The client's
// validation therefore runs with validateExpirationTime: false and everything
// else on (signature against /certs, nbf, issuer); one check below runs the
// default validation and asserts that expiry is its only complaint.
import { createHash, createPublicKey, verify as cryptoVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import {
    AttestationAdministrationClient,
    AttestationClient,
    createAttestationPolicyToken,
} from "@azure/attestation";

const env = (name) => {
    const v = process.env[name];
    if (!v) {
        console.error(`azure-js: ${name} is not set`);
        process.exit(2);
    }
    return v;
};

const URL_ = env("VOUCH_URL");
const ADMIN_TOKEN = env("VOUCH_ADMIN_TOKEN");
const QUOTE = readFileSync(env("VOUCH_QUOTE"));
const INSPECT = JSON.parse(readFileSync(env("VOUCH_INSPECT"), "utf8"));
const EVAL_TIME = Number(env("VOUCH_EVAL_TIME"));
const FOREIGN_CERT = readFileSync(env("VOUCH_FOREIGN_CERT"), "utf8");
const SGX = "SgxEnclave";
// x-ms-policy-hash of Azure Attestation's default SGX policy, from a token the
// real service issued (azure-sdk-for-js recording attestsgxenclaveshared, 2022).
const MAA_DEFAULT_SGX_POLICY_HASH = "bROrN897ZfWmWY2V0FLUlu3uwk5xatGnKYHn3zBbSlw";

const require = createRequire(import.meta.url);
const CLIENT_VERSION = require("@azure/attestation/package.json").version;

let passed = 0;
let failed = 0;

function check(name, ok, detail) {
    if (ok) {
        passed++;
        console.log(`ok   ${name}`);
    } else {
        failed++;
        console.log(`FAIL ${name}${detail === undefined ? "" : ": " + detail}`);
    }
}

function eq(name, got, want) {
    const g = JSON.stringify(got);
    const w = JSON.stringify(want);
    check(name, g === w, `got ${g}, want ${w}`);
}

// Runs one step; an exception is a failed check, never a crash of the run.
async function step(name, fn) {
    try {
        return await fn();
    } catch (e) {
        check(name, false, describe(e));
        return undefined;
    }
}

function describe(e) {
    if (e && e.name === "RestError")
        return `RestError status=${e.statusCode} code=${e.code} message=${e.message}`;
    return e && e.stack ? e.stack : String(e);
}

// Expects @p fn to throw the client's RestError with this status and code.
async function expectRestError(name, fn, status, code) {
    try {
        await fn();
        check(name, false, "the call succeeded");
    } catch (e) {
        const ok = e && e.name === "RestError" && e.statusCode === status &&
                   (code === undefined || e.code === code) && typeof e.message === "string" &&
                   e.message.length > 0;
        check(name, ok, describe(e));
        return e;
    }
    return undefined;
}

const b64url = (buf) => Buffer.from(buf).toString("base64url");
const sha256 = (data) => createHash("sha256").update(data).digest();
// MAA's x-ms-policy-hash: base64url(SHA-256(base64url(UTF-8 policy text))).
const policyHash = (text) => b64url(sha256(b64url(Buffer.from(text, "utf8"))));

function decodeJwt(token) {
    const [h, p, s] = token.split(".");
    return {
        header: JSON.parse(Buffer.from(h, "base64url").toString("utf8")),
        body: JSON.parse(Buffer.from(p, "base64url").toString("utf8")),
        signedPart: `${h}.${p}`,
        signature: Buffer.from(s, "base64url"),
    };
}

// Independent of the client's jsrsasign: RS256 over the compact JWS with the
// public key of the signer certificate.
function rs256Verifies(token, pemCert) {
    const { signedPart, signature } = decodeJwt(token);
    return cryptoVerify("sha256", Buffer.from(signedPart), createPublicKey(pemCert), signature);
}

const tokenCredential = (token) => ({
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600e3 }),
});

// Everything on except the expiry check (see the file comment).
let lastSigner;
const validationOptions = {
    validateToken: true,
    validateExpirationTime: false,
    validateNotBeforeTime: true,
    validateIssuer: true,
    expectedIssuer: URL_,
    validateAttestationToken: (_token, signer) => {
        lastSigner = signer;
        return undefined;
    },
};

async function main() {
    console.log(`@azure/attestation ${CLIENT_VERSION} against ${URL_}`);
    const client = new AttestationClient(URL_, { validationOptions });

    // 1. OpenID metadata.
    const md = await step("getOpenIdMetadata", () => client.getOpenIdMetadata());
    if (md) {
        eq("openid issuer", md.issuer, URL_);
        eq("openid jwks_uri", md.jwks_uri, URL_ + "/certs");
        check("openid RS256 advertised",
              Array.isArray(md.id_token_signing_alg_values_supported) &&
                  md.id_token_signing_alg_values_supported.includes("RS256"),
              JSON.stringify(md.id_token_signing_alg_values_supported));
    }

    // 2. Signers from /certs.
    const signers = (await step("getAttestationSigners", () => client.getAttestationSigners())) ||
                    [];
    check("at least one signer", signers.length >= 1, `${signers.length} signers`);
    check("every signer has a kid and a certificate",
          signers.length > 0 &&
              signers.every((s) => typeof s.keyId === "string" && s.keyId.length > 0 &&
                                   s.certificates.length >= 1 &&
                                   s.certificates[0].startsWith("-----BEGIN CERTIFICATE-----")),
          JSON.stringify(signers.map((s) => [s.keyId, s.certificates.length])));

    // 3. The real quote.
    lastSigner = undefined;
    const res = await step("attestSgxEnclave(real quote)", () => client.attestSgxEnclave(QUOTE));
    let defaultHash;
    if (res) {
        const tok = res.token;
        const raw = tok.serialize();
        const body = res.body;
        const { header, body: claims } = decodeJwt(raw);
        check("attest token passed the client's own validation", true);
        check("client validation found the signer by kid",
              lastSigner !== undefined && lastSigner.keyId === tok.keyId,
              `signer ${lastSigner && lastSigner.keyId}, token kid ${tok.keyId}`);
        eq("token alg", tok.algorithm, "RS256");
        eq("token typ", tok.type, "JWT");
        eq("token jku", tok.keyUrl, URL_ + "/certs");
        check("token header has no x5c", header.x5c === undefined, JSON.stringify(header));
        const byKid = signers.filter((s) => s.keyId === tok.keyId);
        check("a /certs signer's certificate verifies the token (node:crypto)",
              byKid.length === 1 && rs256Verifies(raw, byKid[0].certificates[0]),
              `${byKid.length} signers with kid ${tok.keyId}`);
        eq("iat is the evaluation time", claims.iat, EVAL_TIME);
        eq("nbf equals iat", claims.nbf, claims.iat);
        eq("exp is iat + 8 h", claims.exp - claims.iat, 28800);
        eq("issuer", body.issuer, URL_);
        eq("version", body.version, "1.0");
        eq("verifierType", body.verifierType, "sgx");
        check("uniqueId is 64 hex", /^[0-9a-f]{64}$/.test(body.uniqueId || ""), body.uniqueId);
        eq("mrEnclave", body.mrEnclave, INSPECT.mrenclave);
        eq("mrSigner", body.mrSigner, INSPECT.mrsigner);
        eq("isDebuggable", body.isDebuggable, INSPECT.debug);
        eq("productId", body.productId, INSPECT.isvprodid);
        eq("svn", body.svn, INSPECT.isvsvn);
        eq("x-ms-sgx-report-data", claims["x-ms-sgx-report-data"], INSPECT.report_data);
        eq("enclaveHeldData absent", body.enclaveHeldData, undefined);
        eq("runTimeClaims absent", body.runTimeClaims, undefined);
        eq("nonce absent", body.nonce, undefined);
        eq("policySigner absent (unsigned default policy)", body.policySigner, undefined);
        const pc = body.policyClaims || {};
        eq("policyClaims from the default policy",
           [pc["sgx-mrenclave"], pc["sgx-mrsigner"], pc["is-debuggable"], pc["product-id"],
            pc.svn, pc.tee],
           [INSPECT.mrenclave, INSPECT.mrsigner, INSPECT.debug, INSPECT.isvprodid,
            INSPECT.isvsvn, "sgx"]);
        eq("legacy top-level claims",
           [claims["sgx-mrenclave"], claims["sgx-mrsigner"], claims.tee],
           [INSPECT.mrenclave, INSPECT.mrsigner, "sgx"]);
        defaultHash = body.policyHash ? b64url(body.policyHash) : undefined;
        eq("policyHash is MAA's default SGX policy hash", defaultHash,
           MAA_DEFAULT_SGX_POLICY_HASH);
        if (body.sgxCollateral === undefined)
            console.log("note sgxCollateral (x-ms-sgx-collateral) is not emitted");

        // The default validation also checks exp against today's clock: the
        // token must fail on that and on nothing else.
        const problems = tok.getTokenProblems(signers);
        eq("default validation: expiry is the only problem", problems,
           ["AttestationToken has expired."]);
        // The client's signature check must reject a certificate that did not
        // sign, even when it is offered under the token's kid.
        const foreign = [{ keyId: tok.keyId, certificates: [FOREIGN_CERT] }];
        eq("client rejects the token under a foreign certificate",
           tok.getTokenProblems(foreign, validationOptions),
           ["Attestation Token is not properly signed."]);
    }

    // The same quote wrapped as an Open Enclave remote report.
    const oeHeader = Buffer.alloc(16);
    oeHeader.writeUInt32LE(1, 0);
    oeHeader.writeUInt32LE(2, 4);
    oeHeader.writeBigUInt64LE(BigInt(QUOTE.length), 8);
    const oe = await step("attestOpenEnclave(real quote in an OE report)",
                          () => client.attestOpenEnclave(Buffer.concat([oeHeader, QUOTE])));
    if (oe) {
        eq("OpenEnclave mrEnclave/mrSigner/verifierType",
           [oe.body.mrEnclave, oe.body.mrSigner, oe.body.verifierType],
           [INSPECT.mrenclave, INSPECT.mrsigner, "sgx"]);
    }

    // 4. Tampered evidence: flip one bit of MRENCLAVE (header 48 + body offset 64),
    // inside the region the attestation key signs.
    const tampered = Buffer.from(QUOTE);
    tampered[48 + 64] ^= 0x01;
    await expectRestError("tampered quote -> 400 InvalidParameter",
                          () => client.attestSgxEnclave(tampered), 400, "InvalidParameter");
    await expectRestError("truncated quote -> 400 InvalidParameter",
                          () => client.attestSgxEnclave(QUOTE.subarray(0, 600)), 400,
                          "InvalidParameter");
    await expectRestError("garbage quote -> 400 InvalidParameter",
                          () => client.attestSgxEnclave(Buffer.from("not a quote")), 400,
                          "InvalidParameter");

    // 5. Runtime data binding. REPORTDATA of this quote is "Hello, world!" and
    // zeros, not a SHA-256 of anything we can produce, so every runtimeData must
    // be refused; the positive case is covered by the service's unit tests with
    // evidence whose report data they control.
    await expectRestError("runtimeData (Binary) not bound -> 400 InvalidParameter",
                          () => client.attestSgxEnclave(QUOTE, {
                              runTimeData: Buffer.from("some runtime data"),
                          }),
                          400, "InvalidParameter");
    await expectRestError("runtimeData = REPORTDATA prefix itself -> 400 (hash, not raw bytes)",
                          () => client.attestSgxEnclave(QUOTE, {
                              runTimeData: Buffer.from(INSPECT.report_data.slice(0, 64), "hex"),
                          }),
                          400, "InvalidParameter");
    await expectRestError("runtimeData (JSON) not bound -> 400 InvalidParameter",
                          () => client.attestSgxEnclave(QUOTE, {
                              runTimeJson: Buffer.from(JSON.stringify({ a: 1 })),
                          }),
                          400, "InvalidParameter");

    // Draft policies: evaluated instead of the stored one; MAA answers them with
    // an unsecured token, which this client accepts as it is.
    const draftText = "version=1.0;authorizationrules{=> permit();};issuancerules{" +
                      "c:[type==\"x-ms-sgx-mrenclave\"] => issue(type=\"draft-mre\", " +
                      "value=c.value);};";
    const draft = await step("attestSgxEnclave with draftPolicyForAttestation",
                             () => client.attestSgxEnclave(QUOTE, {
                                 draftPolicyForAttestation: draftText,
                             }));
    if (draft) {
        eq("draft token is unsecured", draft.token.algorithm, "none");
        eq("draft policyHash", b64url(draft.body.policyHash), policyHash(draftText));
        eq("draft issuance rule applied", (draft.body.policyClaims || {})["draft-mre"],
           INSPECT.mrenclave);
    }
    await expectRestError("draft deny policy -> 400 PolicyEvaluationError",
                          () => client.attestSgxEnclave(QUOTE, {
                              draftPolicyForAttestation:
                                  "version=1.0;authorizationrules{=> deny();};issuancerules{};",
                          }),
                          400, "PolicyEvaluationError");

    // 6. Policy management through the administration client.
    const admin = new AttestationAdministrationClient(URL_, tokenCredential(ADMIN_TOKEN),
                                                      { validationOptions });
    const got = await step("getPolicy(SgxEnclave)", () => admin.getPolicy(SGX));
    let defaultText;
    if (got) {
        defaultText = got.body;
        check("default policy text permits",
              typeof defaultText === "string" && /authorizationrules\s*\{/.test(defaultText),
              JSON.stringify(defaultText));
        eq("default policy text hashes to the token's policyHash", policyHash(defaultText || ""),
           defaultHash);
        eq("getPolicy token issuer", got.token.issuer, URL_);
    }

    const newText = "version=1.0;authorizationrules{" +
                    "c:[type==\"x-ms-sgx-is-debuggable\", value==false] => permit();};" +
                    "issuancerules{c:[type==\"x-ms-sgx-mrsigner\"] => " +
                    "issue(type=\"vouch-signer\", value=c.value);};";
    const set = await step("setPolicy(SgxEnclave, unsigned)", () => admin.setPolicy(SGX, newText));
    if (set) {
        eq("setPolicy policyResolution", set.body.policyResolution, "Updated");
        const sent = createAttestationPolicyToken(newText).serialize();
        eq("policyTokenHash = SHA-256 of the JWS the client sent",
           set.body.policyTokenHash ? b64url(set.body.policyTokenHash) : undefined,
           b64url(sha256(sent)));
        eq("setPolicy policySigner absent", set.body.policySigner, undefined);
    }
    const got2 = await step("getPolicy after setPolicy", () => admin.getPolicy(SGX));
    if (got2)
        eq("getPolicy returns the new text", got2.body, newText);
    const a2 = await step("attest under the new policy", () => client.attestSgxEnclave(QUOTE));
    if (a2) {
        eq("policyHash of the new policy", b64url(a2.body.policyHash), policyHash(newText));
        eq("new issuance rule applied", (a2.body.policyClaims || {})["vouch-signer"],
           INSPECT.mrsigner);
        eq("default-policy claims gone", (a2.body.policyClaims || {})["sgx-mrenclave"],
           undefined);
    }

    await expectRestError("setPolicy with a syntax error -> 400 PolicyParsingError",
                          () => admin.setPolicy(SGX, "version=1.0; authorizationrules{ => "),
                          400, "PolicyParsingError");
    const got3 = await step("getPolicy after the refused upload", () => admin.getPolicy(SGX));
    if (got3)
        eq("a refused upload leaves the policy alone", got3.body, newText);

    const denyText = "version=1.0; authorizationrules{=> deny();}; issuancerules{};";
    await step("setPolicy(deny)", () => admin.setPolicy(SGX, denyText));
    await expectRestError("attest under a deny policy -> 400 PolicyEvaluationError",
                          () => client.attestSgxEnclave(QUOTE), 400, "PolicyEvaluationError");

    const reset = await step("resetPolicy(SgxEnclave)", () => admin.resetPolicy(SGX));
    if (reset)
        eq("resetPolicy policyResolution", reset.body.policyResolution, "Removed");
    const got4 = await step("getPolicy after resetPolicy", () => admin.getPolicy(SGX));
    if (got4 && defaultText !== undefined)
        eq("resetPolicy restores the default text", got4.body, defaultText);
    const a3 = await step("attest after resetPolicy", () => client.attestSgxEnclave(QUOTE));
    if (a3)
        eq("policyHash back to the default", b64url(a3.body.policyHash), defaultHash);

    const intruder = new AttestationAdministrationClient(
        URL_, tokenCredential("not-the-admin-token-0123456789"), { validationOptions });
    await expectRestError("getPolicy with a wrong token -> 401 Unauthorized",
                          () => intruder.getPolicy(SGX), 401, "Unauthorized");
    await expectRestError("setPolicy with a wrong token -> 401 Unauthorized",
                          () => intruder.setPolicy(SGX, denyText), 401, "Unauthorized");
    await expectRestError("resetPolicy with a wrong token -> 401 Unauthorized",
                          () => intruder.resetPolicy(SGX), 401, "Unauthorized");
    const a4 = await step("attest after the refused admin calls",
                          () => client.attestSgxEnclave(QUOTE));
    if (a4)
        eq("refused admin calls changed nothing", b64url(a4.body.policyHash), defaultHash);
}

try {
    await main();
} catch (e) {
    check("unexpected exception", false, describe(e));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
