//! Times frost-ed25519 per operation and per whole signing, for the thresholds given on the command line
//! (`t:n` pairs). Prints one JSON object: medians in microseconds.
use std::collections::BTreeMap;
use std::time::Instant;

use frost_ed25519 as frost;
use rand::thread_rng;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn time<F: FnMut()>(iters: usize, mut f: F) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64() * 1e6 / iters as f64
}

fn bench(t: u16, n: u16, rounds: usize) -> serde_json::Value {
    let mut rng = thread_rng();
    let (shares, pubkeys) = frost::keys::generate_with_dealer(n, t, frost::keys::IdentifierList::Default, &mut rng).unwrap();
    let key_packages: BTreeMap<_, _> = shares
        .into_iter()
        .map(|(id, s)| (id, frost::keys::KeyPackage::try_from(s).unwrap()))
        .collect();
    let signers: Vec<_> = key_packages.keys().take(t as usize).cloned().collect();
    let message = b"FROST benchmark message: a JWS signing input of typical size for a mint API, padded to ~100 bytes";

    let (mut commit, mut sign, mut aggregate, mut verify_share, mut full) = (vec![], vec![], vec![], vec![], vec![]);
    let mut full_wire = vec![];
    for _ in 0..rounds {
        let start_full = Instant::now();
        let mut nonces = BTreeMap::new();
        let mut commitments = BTreeMap::new();
        for id in &signers {
            let kp = &key_packages[id];
            let start = Instant::now();
            let (n1, c1) = frost::round1::commit(kp.signing_share(), &mut rng);
            commit.push(start.elapsed().as_secs_f64() * 1e6);
            nonces.insert(*id, n1);
            commitments.insert(*id, c1);
        }
        let package = frost::SigningPackage::new(commitments, message);
        let mut sig_shares = BTreeMap::new();
        for id in &signers {
            let start = Instant::now();
            let share = frost::round2::sign(&package, &nonces[id], &key_packages[id]).unwrap();
            sign.push(start.elapsed().as_secs_f64() * 1e6);
            sig_shares.insert(*id, share);
        }
        let start = Instant::now();
        let sig = frost::aggregate(&package, &sig_shares, &pubkeys).unwrap();
        aggregate.push(start.elapsed().as_secs_f64() * 1e6);
        full.push(start_full.elapsed().as_secs_f64() * 1e6);
        assert!(pubkeys.verifying_key().verify(message, &sig).is_ok());
        // The same signing with every message crossing a process boundary as bytes: commitments and the
        // signing package are deserialized (and their elements validated) by whoever receives them.
        let start_wire = Instant::now();
        let mut nonces = BTreeMap::new();
        let mut commitment_bytes = BTreeMap::new();
        for id in &signers {
            let (n1, c1) = frost::round1::commit(key_packages[id].signing_share(), &mut rng);
            nonces.insert(*id, n1);
            commitment_bytes.insert(*id, c1.serialize().unwrap());
        }
        let commitments: BTreeMap<_, _> = commitment_bytes
            .iter()
            .map(|(id, b)| (*id, frost::round1::SigningCommitments::deserialize(b).unwrap()))
            .collect();
        let package_bytes = frost::SigningPackage::new(commitments, message).serialize().unwrap();
        let mut share_bytes = BTreeMap::new();
        for id in &signers {
            let received = frost::SigningPackage::deserialize(&package_bytes).unwrap();
            let share = frost::round2::sign(&received, &nonces[id], &key_packages[id]).unwrap();
            share_bytes.insert(*id, share.serialize());
        }
        let wire_package = frost::SigningPackage::deserialize(&package_bytes).unwrap();
        let shares: BTreeMap<_, _> = share_bytes
            .iter()
            .map(|(id, b)| (*id, frost::round2::SignatureShare::deserialize(b).unwrap()))
            .collect();
        let sig2 = frost::aggregate(&wire_package, &shares, &pubkeys).unwrap();
        full_wire.push(start_wire.elapsed().as_secs_f64() * 1e6);
        assert!(pubkeys.verifying_key().verify(message, &sig2).is_ok());

        let id = signers[0];
        let vs = pubkeys.verifying_shares()[&id];
        verify_share.push(time(1, || {
            frost_core::verify_signature_share::<frost::Ed25519Sha512>(id, &vs, &sig_shares[&id], &package, pubkeys.verifying_key()).unwrap();
        }));
    }
    serde_json::json!({
        "t": t, "n": n,
        "commit_us": median(commit),
        "sign_us": median(sign),
        "aggregate_us": median(aggregate),
        "verify_share_us": median(verify_share),
        "full_signing_us": median(full),
        "full_signing_wire_us": median(full_wire),
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let pairs = if args.is_empty() { vec!["2:3".to_string(), "3:5".into(), "7:10".into(), "15:20".into()] } else { args };
    let results: Vec<_> = pairs
        .iter()
        .map(|p| {
            let (t, n) = p.split_once(':').expect("t:n");
            bench(t.parse().unwrap(), n.parse().unwrap(), rounds)
        })
        .collect();
    println!("{}", serde_json::json!({ "implementation": "frost-ed25519 (Rust)", "results": results }));
}
