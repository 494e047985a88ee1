//! Compressed hub messages. The gateway may send a packed message (several readings, or several
//! aggregates, of one device) as one zstd frame of its JSON text when that is smaller; whoever
//! reads the hub's readings and aggregates decompresses first. No header is needed: a zstd frame
//! starts with a magic number that JSON text cannot start with, so a hand-typed `nats pub`
//! reading is read as it always was.

use std::borrow::Cow;
use std::cell::RefCell;

use crate::dead_letter::{RejectCode, Rejection};

/// The first bytes of every zstd frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// zstd's default level: most of the ratio, at a cost a gateway does not notice.
const LEVEL: i32 = 3;

/// Whether `payload` is a zstd frame rather than JSON text.
pub fn is_compressed(payload: &[u8]) -> bool {
    payload.starts_with(&ZSTD_MAGIC)
}

thread_local! {
    // A zstd context is costly to set up (its tables are allocated and initialised); one per
    // thread, reused for every message, keeps compression a small cost per pack.
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        RefCell::new(zstd::bulk::Compressor::new(LEVEL).ok());
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        RefCell::new(zstd::bulk::Decompressor::new().ok());
}

/// `payload` compressed into one zstd frame.
pub fn compress(payload: &[u8]) -> Vec<u8> {
    // Compressing a slice in memory fails only when memory does; the payload then travels as
    // it is.
    COMPRESSOR
        .with_borrow_mut(|compressor| compressor.as_mut()?.compress(payload).ok())
        .unwrap_or_else(|| payload.to_vec())
}

/// `text` as one zstd frame if that is shorter, else `text` itself: a reader tells them apart
/// by the frame's magic number.
pub fn compress_if_smaller(text: Vec<u8>) -> Vec<u8> {
    let frame = compress(&text);
    if frame.len() < text.len() {
        frame
    } else {
        text
    }
}

/// The JSON text of a hub message: `payload` itself, or its decompressed frame. A frame that is
/// corrupt or would decompress beyond `max_bytes` is refused (a bound, so a small frame cannot
/// make a reader allocate without limit).
pub fn decompressed(payload: &[u8], max_bytes: usize) -> Result<Cow<'_, [u8]>, Rejection> {
    if !is_compressed(payload) {
        return Ok(Cow::Borrowed(payload));
    }
    DECOMPRESSOR
        .with_borrow_mut(|decompressor| match decompressor.as_mut() {
            Some(decompressor) => decompressor.decompress(payload, max_bytes),
            None => zstd::bulk::decompress(payload, max_bytes),
        })
        .map(Cow::Owned)
        .map_err(|err| {
            Rejection::new(
                RejectCode::InvalidCompression,
                format!(
                    "a zstd frame of {} bytes that does not decompress within {max_bytes} bytes: {err}",
                    payload.len()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_passes_through_and_a_frame_comes_back_whole() {
        let json = br#"[{"ts":"2026-11-21T10:00:00Z","metrics":{"co2_ppm":612}}]"#.repeat(20);
        assert!(matches!(
            decompressed(&json, 1024).unwrap(),
            Cow::Borrowed(b) if b == json.as_slice()
        ));
        let frame = compress(&json);
        assert!(is_compressed(&frame));
        assert!(
            frame.len() < json.len() / 4,
            "{} of {}",
            frame.len(),
            json.len()
        );
        assert_eq!(decompressed(&frame, json.len()).unwrap(), json.as_slice());
    }

    #[test]
    fn a_frame_beyond_the_bound_or_corrupt_is_refused() {
        let frame = compress(&vec![b' '; 10_000]);
        let too_big = decompressed(&frame, 9_999).unwrap_err();
        assert_eq!(too_big.code, RejectCode::InvalidCompression);
        let mut corrupt = frame.clone();
        corrupt.truncate(frame.len() - 3);
        assert_eq!(
            decompressed(&corrupt, 10_000).unwrap_err().code,
            RejectCode::InvalidCompression
        );
    }
}
