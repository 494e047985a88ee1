//! Reading 32-byte keys written by people: hex (64 characters) or standard base64.
//!
//! Errors never echo the input: it may be a secret key pasted into the wrong variable.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("is neither 64 hex characters nor base64")]
    NotHexOrBase64,
    #[error("decodes to {found} bytes, an Ed25519 key has 32")]
    WrongLength { found: usize },
}

/// Decodes a 32-byte key. Hex is tried first when the text is exactly 64 hex digits: base64 of
/// 32 bytes is 44 characters, so the two spellings cannot be confused.
pub(crate) fn decode_key(text: &str) -> Result<Zeroizing<[u8; 32]>, EncodingError> {
    let text = text.trim();
    let mut key = Zeroizing::new([0u8; 32]);
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode_to_slice(text, key.as_mut_slice())
            .map_err(|_| EncodingError::NotHexOrBase64)?;
        return Ok(key);
    }
    let bytes = Zeroizing::new(
        STANDARD
            .decode(text)
            .map_err(|_| EncodingError::NotHexOrBase64)?,
    );
    if bytes.len() != key.len() {
        return Err(EncodingError::WrongLength { found: bytes.len() });
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

/// Standard base64, the spelling key files and environment variables are written in.
pub(crate) fn encode_key(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_of_one_key_decode_alike() {
        let raw = [7u8; 32];
        let from_hex = decode_key(&hex::encode(raw)).unwrap();
        let from_b64 = decode_key(&format!("  {}\n", encode_key(&raw))).unwrap();
        assert_eq!(*from_hex, raw);
        assert_eq!(*from_b64, raw);
    }

    #[test]
    fn wrong_lengths_and_garbage_are_refused_without_echoing_the_input() {
        assert_eq!(
            decode_key(&encode_key(&[1u8; 31])).unwrap_err(),
            EncodingError::WrongLength { found: 31 }
        );
        let err = decode_key("s3cr3t-but-not-a-key!").unwrap_err();
        assert_eq!(err, EncodingError::NotHexOrBase64);
        assert!(!err.to_string().contains("s3cr3t"));
    }
}
