//! Ed25519 group operations for the FROST engine's `native` backend (see packages/frost/src/group.ts):
//! the same three operations as the libsodium backend, on RFC 8032 encodings, with
//! curve25519-dalek's variable-time multi-scalar multiplication for the public sums.
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{Identity, IsIdentity, VartimeMultiscalarMul};
use napi::bindgen_prelude::Buffer;
use napi::{Error, Result};
use napi_derive::napi;
use zeroize::Zeroize;

fn invalid(msg: &str) -> Error {
    Error::from_reason(msg.to_string())
}

/// Decodes a canonical encoding (re-encoding must give the same bytes: rejects y >= p and a set sign
/// bit on x = 0).
fn decode(bytes: &[u8]) -> Option<EdwardsPoint> {
    let arr: [u8; 32] = bytes.try_into().ok()?;
    let p = CompressedEdwardsY(arr).decompress()?;
    (p.compress().0 == arr).then_some(p)
}

fn scalar(bytes: &[u8]) -> Result<Scalar> {
    let arr: [u8; 32] = bytes.try_into().map_err(|_| invalid("scalar must be 32 bytes"))?;
    Option::from(Scalar::from_canonical_bytes(arr)).ok_or_else(|| invalid("scalar is not canonical"))
}

/// DeserializeElement's checks (RFC 9591 §6.1): canonical, on the curve, not the identity, in the
/// prime-order subgroup.
#[napi]
pub fn is_valid_element(bytes: Buffer) -> bool {
    match decode(&bytes) {
        Some(p) => !p.is_identity() && p.is_torsion_free(),
        None => false,
    }
}

/// [s]B for a secret scalar, constant time (precomputed basepoint table).
#[napi]
pub fn base_mul(scalar_bytes: Buffer) -> Result<Buffer> {
    let mut s = scalar(&scalar_bytes)?;
    let p = EdwardsPoint::mul_base(&s);
    s.zeroize();
    Ok(Buffer::from(p.compress().0.to_vec()))
}

/// Σ adds + Σ [scalars_i]·muls_i (public inputs, variable time, one multi-scalar multiplication).
/// `adds` and `muls` are concatenated 32-byte encodings, `scalars` concatenated 32-byte scalars.
#[napi]
pub fn combine(adds: Buffer, muls: Buffer, scalars: Buffer) -> Result<Buffer> {
    if adds.len() % 32 != 0 || muls.len() % 32 != 0 || scalars.len() != muls.len() {
        return Err(invalid("inputs must be whole 32-byte encodings, one scalar per point"));
    }
    let mut acc = EdwardsPoint::identity();
    for chunk in adds.chunks(32) {
        acc += decode(chunk).ok_or_else(|| invalid("invalid point"))?;
    }
    if !muls.is_empty() {
        let points = muls.chunks(32).map(|c| decode(c).ok_or_else(|| invalid("invalid point"))).collect::<Result<Vec<_>>>()?;
        let ks = scalars.chunks(32).map(scalar).collect::<Result<Vec<_>>>()?;
        acc += EdwardsPoint::vartime_multiscalar_mul(ks.iter(), points.iter());
    }
    Ok(Buffer::from(acc.compress().0.to_vec()))
}
