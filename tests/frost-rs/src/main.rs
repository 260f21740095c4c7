//! Interoperability helper for tests/e2e/frost-rs-interop.test.ts: the frost-ed25519 crate reading and writing the
//! frost-rs serde JSON that frostctl uses.
//!   interop keygen T N DIR             frost-rs trusted dealer, files named as frostctl names them
//!   interop sign DIR MESSAGE_HEX I,J,… sign with frostctl's key files; prints the signature (hex)
use std::collections::BTreeMap;
use std::fs;

use frost_ed25519 as frost;
use rand::thread_rng;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("keygen") => keygen(args[1].parse().unwrap(), args[2].parse().unwrap(), &args[3]),
        Some("sign") => sign(&args[1], &args[2], &args[3]),
        _ => panic!("usage: interop keygen T N DIR | interop sign DIR MESSAGE_HEX IDS"),
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
    println!("{}", sig.serialize().unwrap().iter().map(|b| format!("{b:02x}")).collect::<String>());
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
