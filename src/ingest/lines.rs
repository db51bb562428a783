//! Line-ending normalisation: CRLF and lone CR become LF as bytes stream through,
//! so every format reads one way and line numbers match what an editor shows.

use std::io::{self, Read};

/// A reader that turns `\r\n` and `\r` into `\n`.
pub struct Lf<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    /// A `\r` was seen last and its `\n` is owed.
    pending_cr: bool,
}

impl<R: Read> Lf<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Lf {
            inner,
            buf: vec![0; 1 << 16].into_boxed_slice(),
            pos: 0,
            len: 0,
            pending_cr: false,
        }
    }
}

impl<R: Read> Read for Lf<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut w = 0;
        while w < out.len() {
            if self.pos == self.len {
                if w > 0 {
                    break;
                }
                self.len = self.inner.read(&mut self.buf)?;
                self.pos = 0;
                if self.len == 0 {
                    if std::mem::take(&mut self.pending_cr) {
                        out[0] = b'\n';
                        w = 1;
                    }
                    break;
                }
            }
            if std::mem::take(&mut self.pending_cr) {
                out[w] = b'\n';
                w += 1;
                if self.buf[self.pos] == b'\n' {
                    self.pos += 1;
                }
                continue;
            }
            // Copy the run up to the next CR (or as much as fits) in one go.
            let avail = &self.buf[self.pos..self.len];
            let run = memchr::memchr(b'\r', avail)
                .unwrap_or(avail.len())
                .min(out.len() - w);
            out[w..w + run].copy_from_slice(&avail[..run]);
            w += run;
            self.pos += run;
            if self.pos < self.len && self.buf[self.pos] == b'\r' && w < out.len() {
                self.pos += 1;
                self.pending_cr = true;
            }
        }
        Ok(w)
    }
}

/// `bytes` with CRLF and CR turned into LF; returned as it is when it has no CR.
pub fn to_lf(bytes: Vec<u8>) -> Vec<u8> {
    if memchr::memchr(b'\r', &bytes).is_none() {
        return bytes;
    }
    let mut out = Vec::with_capacity(bytes.len());
    Lf::new(&bytes[..])
        .read_to_end(&mut out)
        .expect("reading memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(input: &[u8], chunk: usize) -> Vec<u8> {
        let mut r = Lf::new(input);
        let mut out = Vec::new();
        let mut buf = vec![0; chunk];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn all_endings_become_lf() {
        for chunk in [1, 2, 3, 7, 4096] {
            assert_eq!(
                norm(b"a\r\nb\rc\nd\r", chunk),
                b"a\nb\nc\nd\n",
                "chunk {chunk}"
            );
            assert_eq!(norm(b"\r\r\n\r", chunk), b"\n\n\n", "chunk {chunk}");
            assert_eq!(norm(b"plain", chunk), b"plain");
        }
        assert_eq!(to_lf(b"a\r\nb\rc\nd\r".to_vec()), b"a\nb\nc\nd\n");
        assert_eq!(to_lf(b"plain\n".to_vec()), b"plain\n");
    }
}
