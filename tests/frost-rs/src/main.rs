//! Interoperability helper for tests/e2e/frost-rs-interop.test.ts: the frost-ed25519 crate reading and writing the
//! frost-rs serde JSON that frostctl and the protocol library use.
//!   interop keygen T N DIR             frost-rs trusted dealer, files named as frostctl names them
//!   interop sign DIR MESSAGE_HEX I,J,… sign with frostctl's key files; prints the signature (hex)
//!   interop STEP                       one protocol step: reads a JSON object on stdin, writes one on stdout
//!
//! Steps (every package, key and map in frost-rs serde JSON; maps keyed by identifier hex):
//!   dkg-part1      {identifier, max_signers, min_signers, randomness?} → {secret_package, package}
//!   dkg-part2      {secret_package, round1_packages}                   → {secret_package, round2_packages}
//!   dkg-part3      {secret_package, round1_packages, round2_packages}  → {key_package, public_key_package}
//!   refresh-part1  as dkg-part1;  refresh-part2  as dkg-part2
//!   refresh-shares {secret_package, round1_packages, round2_packages, old_public_key_package, old_key_package}
//!                                                                      → {key_package, public_key_package}
//!   commit         {key_package}                                       → {nonces, commitments}
//!   sign-share     {signing_package, nonces, key_package}              → {signature_share}
//!   aggregate      {signing_package, signature_shares, public_key_package} → {signature}
//!   repair-part1   {helpers, key_package, participant, randomness?}    → {deltas}
//!   repair-part2   {deltas}                                            → {sigma}
//!   repair-part3   {sigmas, identifier, public_key_package}            → {key_package}
//! `randomness` (hex) replaces the system RNG with exactly those bytes, so both implementations can be fed the
//! same randomness. A step frost-rs refuses answers {"error": "..."} and exits with status 1.
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;

use frost_ed25519 as frost;
use frost::keys::{dkg, refresh, repairable};
use rand::{thread_rng, CryptoRng, RngCore};
use serde_json::{json, Value};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("keygen") => keygen(args[1].parse().unwrap(), args[2].parse().unwrap(), &args[3]),
        Some("sign") => sign(&args[1], &args[2], &args[3]),
        Some(step) => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input).unwrap();
            let request: Value = serde_json::from_str(&input).expect("stdin must be a JSON object");
            match run_step(step, &request) {
                Ok(answer) => println!("{answer}"),
                Err(message) => {
                    println!("{}", json!({ "error": message }));
                    std::process::exit(1);
                }
            }
        }
        None => panic!("usage: interop keygen T N DIR | interop sign DIR MESSAGE_HEX IDS | interop STEP < request.json"),
    }
}

/// Randomness for a step: the request's `randomness` bytes when given, else the system RNG.
enum StepRng {
    Fixed(Vec<u8>, usize),
    System(rand::rngs::ThreadRng),
}

impl RngCore for StepRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        match self {
            StepRng::Fixed(bytes, pos) => {
                let end = *pos + dest.len();
                assert!(end <= bytes.len(), "the request's randomness is exhausted");
                dest.copy_from_slice(&bytes[*pos..end]);
                *pos = end;
            }
            StepRng::System(rng) => rng.fill_bytes(dest),
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl CryptoRng for StepRng {}

fn step_rng(request: &Value) -> StepRng {
    match request.get("randomness").and_then(Value::as_str) {
        Some(h) => StepRng::Fixed(hex_decode(h), 0),
        None => StepRng::System(thread_rng()),
    }
}

fn field<T: serde::de::DeserializeOwned>(request: &Value, name: &str) -> Result<T, String> {
    let v = request.get(name).ok_or_else(|| format!("missing field {name}"))?;
    serde_json::from_value(v.clone()).map_err(|e| format!("{name}: {e}"))
}

/// frost-rs's own serialization of `v`, as text: a `Value` would reorder the fields.
fn to_json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

/// A JSON object of already serialized members, in the order given.
fn object(members: &[(&str, String)]) -> String {
    let body: Vec<String> = members.iter().map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap())).collect();
    format!("{{{}}}", body.join(","))
}

fn run_step(step: &str, r: &Value) -> Result<String, String> {
    let e = |err: frost::Error| format!("{err:?}");
    match step {
        "dkg-part1" | "refresh-part1" => {
            let id: frost::Identifier = field(r, "identifier")?;
            let max: u16 = field(r, "max_signers")?;
            let min: u16 = field(r, "min_signers")?;
            let rng = step_rng(r);
            let (secret, package) = if step == "dkg-part1" {
                dkg::part1(id, max, min, rng).map_err(e)?
            } else {
                refresh::refresh_dkg_part1(id, max, min, rng).map_err(e)?
            };
            Ok(object(&[("secret_package", to_json(&secret)), ("package", to_json(&package))]))
        }
        "dkg-part2" | "refresh-part2" => {
            let secret: dkg::round1::SecretPackage = field(r, "secret_package")?;
            let round1: BTreeMap<frost::Identifier, dkg::round1::Package> = field(r, "round1_packages")?;
            let (secret, packages) = if step == "dkg-part2" {
                dkg::part2(secret, &round1).map_err(e)?
            } else {
                refresh::refresh_dkg_part2(secret, &round1).map_err(e)?
            };
            Ok(object(&[("secret_package", to_json(&secret)), ("round2_packages", to_json(&packages))]))
        }
        "dkg-part3" | "refresh-shares" => {
            let secret: dkg::round2::SecretPackage = field(r, "secret_package")?;
            let round1: BTreeMap<frost::Identifier, dkg::round1::Package> = field(r, "round1_packages")?;
            let round2: BTreeMap<frost::Identifier, dkg::round2::Package> = field(r, "round2_packages")?;
            let (kp, pkp) = if step == "dkg-part3" {
                dkg::part3(&secret, &round1, &round2).map_err(e)?
            } else {
                let old_pkp: frost::keys::PublicKeyPackage = field(r, "old_public_key_package")?;
                let old_kp: frost::keys::KeyPackage = field(r, "old_key_package")?;
                refresh::refresh_dkg_shares(&secret, &round1, &round2, old_pkp, old_kp).map_err(e)?
            };
            Ok(object(&[("key_package", to_json(&kp)), ("public_key_package", to_json(&pkp))]))
        }
        "commit" => {
            let kp: frost::keys::KeyPackage = field(r, "key_package")?;
            let (nonces, commitments) = frost::round1::commit(kp.signing_share(), &mut thread_rng());
            Ok(object(&[("nonces", to_json(&nonces)), ("commitments", to_json(&commitments))]))
        }
        "sign-share" => {
            let package: frost::SigningPackage = field(r, "signing_package")?;
            let nonces: frost::round1::SigningNonces = field(r, "nonces")?;
            let kp: frost::keys::KeyPackage = field(r, "key_package")?;
            let share = frost::round2::sign(&package, &nonces, &kp).map_err(e)?;
            Ok(object(&[("signature_share", to_json(&share))]))
        }
        "aggregate" => {
            let package: frost::SigningPackage = field(r, "signing_package")?;
            let shares: BTreeMap<frost::Identifier, frost::round2::SignatureShare> = field(r, "signature_shares")?;
            let pkp: frost::keys::PublicKeyPackage = field(r, "public_key_package")?;
            let sig = frost::aggregate(&package, &shares, &pkp).map_err(e)?;
            Ok(object(&[("signature", to_json(&hex_encode(&sig.serialize().map_err(e)?)))]))
        }
        "repair-part1" => {
            let helpers: Vec<frost::Identifier> = field(r, "helpers")?;
            let kp: frost::keys::KeyPackage = field(r, "key_package")?;
            let participant: frost::Identifier = field(r, "participant")?;
            let deltas = repairable::repair_share_part1::<frost::Ed25519Sha512, StepRng>(&helpers, &kp, &mut step_rng(r), participant).map_err(e)?;
            Ok(object(&[("deltas", to_json(&deltas))]))
        }
        "repair-part2" => {
            let deltas: Vec<repairable::Delta> = field(r, "deltas")?;
            Ok(object(&[("sigma", to_json(&repairable::repair_share_part2(&deltas)))]))
        }
        "repair-part3" => {
            let sigmas: Vec<repairable::Sigma> = field(r, "sigmas")?;
            let id: frost::Identifier = field(r, "identifier")?;
            let pkp: frost::keys::PublicKeyPackage = field(r, "public_key_package")?;
            let kp = repairable::repair_share_part3(&sigmas, id, &pkp).map_err(e)?;
            Ok(object(&[("key_package", to_json(&kp))]))
        }
        other => Err(format!("unknown step {other}")),
    }
}

fn keygen(t: u16, n: u16, dir: &str) {
    let mut rng = thread_rng();
    let (shares, pubkeys) = frost::keys::generate_with_dealer(n, t, frost::keys::IdentifierList::Default, &mut rng).unwrap();
    fs::create_dir_all(dir).unwrap();
    fs::write(format!("{dir}/public-key-package.json"), serde_json::to_string_pretty(&pubkeys).unwrap()).unwrap();
    for (i, (_, share)) in shares.into_iter().enumerate() {
        let kp = frost::keys::KeyPackage::try_from(share).unwrap();
        fs::write(format!("{dir}/key-package-{}.json", i + 1), serde_json::to_string_pretty(&kp).unwrap()).unwrap();
    }
}

fn sign(dir: &str, message_hex: &str, ids: &str) {
    let mut rng = thread_rng();
    let message = hex_decode(message_hex);
    let pubkeys: frost::keys::PublicKeyPackage = serde_json::from_str(&fs::read_to_string(format!("{dir}/public-key-package.json")).unwrap()).unwrap();
    let kps: Vec<frost::keys::KeyPackage> = ids
        .split(',')
        .map(|i| serde_json::from_str(&fs::read_to_string(format!("{dir}/key-package-{i}.json")).unwrap()).unwrap())
        .collect();
    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    for kp in &kps {
        let (n, c) = frost::round1::commit(kp.signing_share(), &mut rng);
        nonces.insert(*kp.identifier(), n);
        commitments.insert(*kp.identifier(), c);
    }
    let package = frost::SigningPackage::new(commitments, &message);
    let shares: BTreeMap<_, _> = kps
        .iter()
        .map(|kp| (*kp.identifier(), frost::round2::sign(&package, &nonces[kp.identifier()], kp).unwrap()))
        .collect();
    let sig = frost::aggregate(&package, &shares, &pubkeys).unwrap();
    println!("{}", hex_encode(&sig.serialize().unwrap()));
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
