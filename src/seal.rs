//! Sealing: age encryption of pages to scope recipients, passphrase-wrapped
//! personal identities, the HMAC locator of a user's files, and opaque file
//! names. All cryptography is the `age` crate's, HMAC-SHA-256 the `hmac`
//! crate's; nothing here is hand-rolled.

use age::secrecy::SecretString;
use age::x25519;
use anyhow::{anyhow, Context as _, Result};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::{Read, Write};

/// The scrypt work factor (log2 N) of every passphrase-wrapped file. Pinned:
/// the crate would otherwise pick one by timing this machine, and browsers
/// running typage refuse factors above 20.
pub const WORK_FACTOR: u8 = 18;

/// The deflate level of sealed pages. With zlib-rs, level 2 compresses the
/// sandbox's pages to 18% at the speed at which miniz_oxide's fastest level
/// reached 22%.
pub const LEVEL: flate2::Compression = flate2::Compression::new(2);

thread_local! {
    /// Each thread's compressor and decompressor, reset for every stream: a
    /// new one costs more to set up than a small page costs to (de)compress.
    static DEFLATE: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(LEVEL, true));
    static INFLATE: std::cell::RefCell<flate2::Decompress> =
        std::cell::RefCell::new(flate2::Decompress::new(true));
}

/// Appends the zlib stream (RFC 1950) of `data` to `out`.
fn deflate_into(data: &[u8], out: &mut Vec<u8>) -> Result<()> {
    DEFLATE.with_borrow_mut(|z| -> Result<()> {
        z.reset();
        loop {
            let done = z.total_in() as usize;
            let status = z.compress_vec(&data[done..], out, flate2::FlushCompress::Finish)?;
            if status == flate2::Status::StreamEnd {
                return Ok(());
            }
            out.reserve(out.capacity().max(64));
        }
    })
}

/// What the zlib stream `stream` holds; `None` when it is not one whole.
pub fn inflate(stream: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(stream.len() * 2 + 64);
    INFLATE.with_borrow_mut(|z| {
        z.reset(true);
        loop {
            let done = z.total_in() as usize;
            let status = z
                .decompress_vec(&stream[done..], &mut out, flate2::FlushDecompress::Finish)
                .ok()?;
            if status == flate2::Status::StreamEnd {
                return Some(out);
            }
            // Room left and nothing taken: the stream stops short.
            if z.total_in() as usize == done && out.len() < out.capacity() {
                return None;
            }
            out.reserve(out.capacity());
        }
    })
}

/// A page as it is sealed: its zlib stream's length (4 bytes, big-endian),
/// the zlib stream (RFC 1950, which the browser's `DecompressionStream`
/// reads as "deflate"), then zeros up to the padded size ([`padded_len`]),
/// so that a sealed page's size says less about its content.
pub fn pack(page: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(64 + page.len() / 4);
    out.extend([0u8; 4]);
    deflate_into(page, &mut out)?;
    framed(out)
}

/// Sets the length prefix of a [`pack`]ed payload whose zlib stream follows
/// it in `out`, and pads it.
fn framed(mut out: Vec<u8>) -> Result<Vec<u8>> {
    let len = u32::try_from(out.len() - 4).context("a page over 4 GiB")?;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out.resize(padded_len(out.len()), 0);
    Ok(out)
}

/// A [`pack`]ed payload made as the page is written, for a page too large
/// to hold whole: only its compressed stream is held.
pub struct Packing(flate2::write::ZlibEncoder<Vec<u8>>);

impl Default for Packing {
    fn default() -> Packing {
        Packing(flate2::write::ZlibEncoder::new(vec![0; 4], LEVEL))
    }
}

impl Packing {
    /// The payload, as [`pack`] would have made it of the whole page.
    pub fn finish(self) -> Result<Vec<u8>> {
        framed(self.0.finish()?)
    }
}

impl Write for Packing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// The page inside a [`pack`]ed payload.
pub fn unpack(packed: &[u8]) -> Result<Vec<u8>> {
    let head: [u8; 4] = packed
        .get(..4)
        .and_then(|h| h.try_into().ok())
        .context("a sealed page shorter than its length prefix")?;
    let len = u32::from_be_bytes(head) as usize;
    let stream = packed
        .get(4..4 + len)
        .context("a sealed page shorter than its stated length")?;
    inflate(stream).context("a sealed page that is not a zlib stream")
}

/// The Padmé padded length of `len` bytes (Nikitin et al., "Reducing
/// Metadata Leakage from Encrypted Files and Communication with PURBs",
/// PETS 2019): the low bits of the length are rounded up so that only
/// about log2(log2(len)) bits of it are kept, at most 12% more bytes.
pub fn padded_len(len: usize) -> usize {
    if len < 2 {
        return len;
    }
    let e = usize::BITS - 1 - len.leading_zeros(); // floor(log2 len)
    let s = u32::BITS - e.leading_zeros(); // floor(log2 e) + 1
    let mask = (1usize << (e - s)) - 1;
    (len + mask) & !mask
}

/// An encryptor to every one of `recipients`.
fn encryptor(recipients: &[x25519::Recipient]) -> Result<age::Encryptor> {
    age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .map_err(|e| anyhow!("cannot encrypt: {e}"))
}

/// Encrypts `plaintext` to every one of `recipients`.
pub fn to_recipients(plaintext: &[u8], recipients: &[x25519::Recipient]) -> Result<Vec<u8>> {
    finish(encryptor(recipients)?, plaintext)
}

/// An age stream encrypted to every one of `recipients`, written into `out`
/// as it is written, for what is too large to hold whole; its `finish`
/// completes it.
pub fn sealing<W: Write>(
    out: W,
    recipients: &[x25519::Recipient],
) -> Result<age::stream::StreamWriter<W>> {
    Ok(encryptor(recipients)?.wrap_output(out)?)
}

/// The plaintext of the age stream `ciphertext`, read as it is read, with
/// whichever of `identities` it was sealed to; `None` when it was sealed
/// to none of them (or is not age at all).
pub fn opening<R: std::io::BufRead>(
    ciphertext: R,
    identities: &[x25519::Identity],
) -> Option<age::stream::StreamReader<R>> {
    age::Decryptor::new_buffered(ciphertext)
        .ok()?
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        .ok()
}

/// Writes to `out` what `fill` writes, in a gzip stream at `level` and
/// encrypted to every one of `recipients`, as it is written: for what is
/// too large to hold whole, like the build state. `fill` runs on a thread
/// of its own, so that making the content and sealing it take two cores.
pub fn to_recipients_compressed(
    out: &mut dyn Write,
    recipients: &[x25519::Recipient],
    level: flate2::Compression,
    fill: impl FnOnce(&mut dyn Write) -> Result<()> + Send,
) -> Result<()> {
    let (blocks, received) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    std::thread::scope(|scope| {
        let made = scope.spawn(move || -> Result<()> {
            // Blocks rather than the serializer's many small writes.
            let mut gathered = std::io::BufWriter::with_capacity(1 << 18, Blocks(blocks));
            fill(&mut gathered)?;
            gathered.flush()?;
            Ok(())
        });
        let sealed = (|| -> Result<()> {
            let mut sealed = sealing(std::io::BufWriter::new(out), recipients)?;
            let mut gz = flate2::write::GzEncoder::new(&mut sealed, level);
            for block in received.iter() {
                gz.write_all(&block)?;
            }
            gz.finish()?;
            sealed.finish()?.flush()?;
            Ok(())
        })();
        // Whatever stopped the sealing, the filling must not wait for it.
        drop(received);
        let made = made
            .join()
            .map_err(|_| anyhow!("writing the content panicked"))?;
        sealed.and(made)
    })
}

/// A writer that hands each write, as a block, to another thread.
struct Blocks(std::sync::mpsc::SyncSender<Vec<u8>>);

impl Write for Blocks {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .send(buf.to_vec())
            .map_err(|_| std::io::Error::other("the sealing stopped"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What [`to_recipients_compressed`] wrote, read from `ciphertext` with
/// whichever of `identities` it was sealed to. `Ok(None)` when it was
/// sealed to none of them (or is not age at all); an error when it opens
/// but holds no gzip stream.
pub fn open_compressed(
    ciphertext: impl std::io::BufRead,
    identities: &[x25519::Identity],
) -> Result<Option<Vec<u8>>> {
    let Some(reader) = opening(ciphertext, identities) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(reader)
        .read_to_end(&mut out)
        .context("it opens, but holds no gzip stream")?;
    Ok(Some(out))
}

/// Encrypts `plaintext` with a passphrase (scrypt at [`WORK_FACTOR`]).
pub fn with_passphrase(plaintext: &[u8], passphrase: &SecretString) -> Result<Vec<u8>> {
    let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
    recipient.set_work_factor(WORK_FACTOR);
    let encryptor = age::Encryptor::with_recipients(std::iter::once(&recipient as _))
        .map_err(|e| anyhow!("cannot encrypt: {e}"))?;
    finish(encryptor, plaintext)
}

fn finish(encryptor: age::Encryptor, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(plaintext.len() + 256);
    let mut writer = encryptor.wrap_output(&mut out)?;
    writer.write_all(plaintext)?;
    writer.finish()?;
    Ok(out)
}

/// Decrypts `ciphertext` with a passphrase; `None` when it is the wrong one.
pub fn open_with_passphrase(ciphertext: &[u8], passphrase: &SecretString) -> Option<Vec<u8>> {
    let mut identity = age::scrypt::Identity::new(passphrase.clone());
    identity.set_max_work_factor(WORK_FACTOR);
    open(ciphertext, &[&identity as &dyn age::Identity])
}

/// Decrypts `ciphertext` with whichever of `identities` it was sealed to;
/// `None` when it was sealed to none of them.
pub fn open_with(ciphertext: &[u8], identities: &[x25519::Identity]) -> Option<Vec<u8>> {
    let ids: Vec<&dyn age::Identity> = identities.iter().map(|i| i as _).collect();
    open(ciphertext, &ids)
}

fn open(ciphertext: &[u8], identities: &[&dyn age::Identity]) -> Option<Vec<u8>> {
    let decryptor = age::Decryptor::new_buffered(ciphertext).ok()?;
    let mut reader = decryptor.decrypt(identities.iter().copied()).ok()?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).ok()?;
    Some(out)
}

/// The form of an email address that locators are computed from.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Hex HMAC-SHA-256 of `message` under `key`.
pub fn hmac_hex(key: &[u8], message: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Where a user's credential and grant files live: `HMAC(site salt, email)`.
pub fn locator(salt: &[u8], email: &str) -> String {
    hmac_hex(salt, &normalise_email(email))
}

/// The scrypt work factor a passphrase-sealed file declares in its header,
/// or `None` when it has no scrypt stanza.
pub fn work_factor(sealed: &[u8]) -> Option<u8> {
    let head = String::from_utf8_lossy(&sealed[..sealed.len().min(256)]);
    head.lines()
        .find_map(|l| l.strip_prefix("-> scrypt "))
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

/// The hex SHA-256 of a credential file, which `users.yaml` records so that
/// a build can tell a credential from an interrupted `users passwd`.
pub fn fingerprint(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// The SHA-256 of the file at `path`, read in pieces: a deployment's
/// exports and this program are hashed without being held whole.
pub fn file_digest(path: &std::path::Path) -> std::io::Result<[u8; 32]> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hasher.finalize().into())
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).context("the operating system's random source failed")?;
    Ok(buf)
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// Bytes from lower-case hex.
pub fn unhex(text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        anyhow::bail!("expected hex digits, found `{text}`");
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&text[i..i + 2], 16)
                .with_context(|| format!("expected hex digits, found `{text}`"))
        })
        .collect()
}

/// A generated passphrase: six words from the BIP-39 English list of 2,048
/// (66 bits), joined by dashes.
pub fn generate_passphrase() -> Result<String> {
    let words = bip39::Language::English.word_list();
    let bytes = random_bytes(12)?;
    Ok(bytes
        .chunks(2)
        .map(|pair| words[(u16::from_le_bytes([pair[0], pair[1]]) & 0x7ff) as usize])
        .collect::<Vec<_>>()
        .join("-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_content_made_on_another_thread_opens_whole_or_fails_clearly() {
        let id = x25519::Identity::generate();
        let content: Vec<u8> = (0..3_000_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut sealed = Vec::new();
        to_recipients_compressed(&mut sealed, &[id.to_public()], LEVEL, |w| {
            // Many small writes, as a serializer makes them.
            for chunk in content.chunks(7) {
                w.write_all(chunk)?;
            }
            Ok(())
        })
        .unwrap();
        let opened = open_compressed(&sealed[..], std::slice::from_ref(&id)).unwrap();
        assert!(
            opened == Some(content.clone()),
            "what was written opens whole"
        );
        // The content fails halfway: its error is the one told.
        let failed = to_recipients_compressed(&mut Vec::new(), &[id.to_public()], LEVEL, |w| {
            w.write_all(&content)?;
            Err(anyhow!("the state would not serialise"))
        });
        assert_eq!(
            failed.unwrap_err().to_string(),
            "the state would not serialise"
        );
        // The output fails: that error is told, and the filling stops too.
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let failed = to_recipients_compressed(&mut Full, &[id.to_public()], LEVEL, |w| {
            for _ in 0..100 {
                w.write_all(&content)?;
            }
            Ok(())
        });
        assert!(format!("{:#}", failed.unwrap_err()).contains("disk full"));
    }

    #[test]
    fn padme_keeps_few_bits_and_adds_at_most_12_percent() {
        assert_eq!(padded_len(0), 0);
        assert_eq!(padded_len(1), 1);
        // 1000 = 0b1111101000: e = 9, s = 4, so the low 5 bits round up.
        assert_eq!(padded_len(1000), 1024);
        assert_eq!(padded_len(1025), 1088);
        assert_eq!(padded_len(1024), 1024);
        for len in (2..200_000).step_by(97) {
            let p = padded_len(len);
            assert!(
                p >= len && (p - len) as f64 <= 0.12 * len as f64 + 1.0,
                "{len} → {p}"
            );
        }
        // Many lengths share a padded size.
        let sizes: std::collections::BTreeSet<usize> = (50_000..60_000).map(padded_len).collect();
        assert!(sizes.len() <= 20, "{}", sizes.len());
    }

    #[test]
    fn pages_pack_and_unpack() {
        let page = "<p>Grade 5 ELA</p>".repeat(500);
        let packed = pack(page.as_bytes()).unwrap();
        assert!(
            packed.len() < page.len() / 10,
            "compressed: {}",
            packed.len()
        );
        assert_eq!(packed.len(), padded_len(packed.len()));
        assert_eq!(unpack(&packed).unwrap(), page.as_bytes());
        assert!(unpack(&packed[..3]).is_err());
        assert!(unpack(&[0, 0, 0, 9, 1, 2]).is_err());
        // A stream cut short inflates to nothing, and the thread's
        // decompressor then inflates a whole one (here 10 times its size).
        let len = u32::from_be_bytes(packed[..4].try_into().unwrap()) as usize;
        let stream = &packed[4..4 + len];
        assert_eq!(inflate(&stream[..len - 6]), None);
        assert_eq!(inflate(stream).unwrap(), page.as_bytes());
        // The thread's compressor is reset between pages, and a page that
        // does not compress outgrows the first guess at its size.
        let noise = random_bytes(300_000).unwrap();
        for page in [&noise[..], b"", page.as_bytes()] {
            assert_eq!(unpack(&pack(page).unwrap()).unwrap(), page);
        }
    }

    #[test]
    fn a_page_packed_as_it_is_written_unpacks_as_a_whole_one() {
        let noise = random_bytes(300_000).unwrap();
        let page = [&b"\"Year\",\"Grade\"\r\n".repeat(20_000)[..], &noise].concat();
        let mut packing = Packing::default();
        for piece in page.chunks(7_777) {
            packing.write_all(piece).unwrap();
        }
        let packed = packing.finish().unwrap();
        assert_eq!(packed.len(), padded_len(packed.len()));
        assert_eq!(unpack(&packed).unwrap(), page);
        assert_eq!(unpack(&Packing::default().finish().unwrap()).unwrap(), b"");
    }

    #[test]
    fn pages_open_only_with_a_recipient_identity() {
        let (a, b, c) = (
            x25519::Identity::generate(),
            x25519::Identity::generate(),
            x25519::Identity::generate(),
        );
        let sealed = to_recipients(b"page", &[a.to_public(), b.to_public()]).unwrap();
        assert_eq!(
            open_with(&sealed, std::slice::from_ref(&b)).unwrap(),
            b"page"
        );
        assert_eq!(open_with(&sealed, &[c.clone(), a]).unwrap(), b"page");
        assert!(open_with(&sealed, &[c]).is_none());
        assert!(!sealed.windows(4).any(|w| w == b"page"));
    }

    #[test]
    fn passphrase_files_use_work_factor_18() {
        let pass = SecretString::from("correct horse".to_string());
        let sealed = with_passphrase(b"secret", &pass).unwrap();
        let header = String::from_utf8_lossy(&sealed[..120]);
        assert!(
            header.contains("-> scrypt ") && header.contains(" 18\n"),
            "{header}"
        );
        assert_eq!(work_factor(&sealed), Some(WORK_FACTOR));
        assert_eq!(open_with_passphrase(&sealed, &pass).unwrap(), b"secret");
        let wrong = SecretString::from("wrong horse".to_string());
        assert!(open_with_passphrase(&sealed, &wrong).is_none());
    }

    #[test]
    fn locators_ignore_case_and_space() {
        let salt = b"salt";
        assert_eq!(locator(salt, " Ann@X.org "), locator(salt, "ann@x.org"));
        assert_ne!(locator(salt, "ann@x.org"), locator(b"other", "ann@x.org"));
        assert_eq!(locator(salt, "a@b").len(), 64);
        assert_eq!(unhex(&hex(b"\x00\xffab")).unwrap(), b"\x00\xffab");
    }

    #[test]
    fn generated_passphrases_are_six_words() {
        let p = generate_passphrase().unwrap();
        assert_eq!(p.split('-').count(), 6, "{p}");
        assert_ne!(p, generate_passphrase().unwrap());
    }
}
