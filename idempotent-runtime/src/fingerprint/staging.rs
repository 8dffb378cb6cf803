//! A byte buffer on the stack that spills to the heap only when a request outgrows it.
//!
//! The encoder writes many small pieces (a tag, a length, a short string); plain slice copies
//! into a fixed array keep each write a few instructions.

/// Bytes staged on the stack; a large request spills to the heap.
pub(crate) struct Staging {
    inline: [u8; INLINE],
    len: usize,
    /// Holds everything once the inline array is full.
    spilled: Option<Vec<u8>>,
}

/// Bytes kept on the stack: room for a typical request with its parameter names.
const INLINE: usize = 512;

impl Staging {
    pub(crate) fn new() -> Self {
        Self {
            inline: [0; INLINE],
            len: 0,
            spilled: None,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, byte: u8) {
        match (&mut self.spilled, self.inline.get_mut(self.len)) {
            (None, Some(slot)) => {
                *slot = byte;
                self.len += 1;
            }
            // Once spilled, a byte is a `Vec::push`: a byte sequence can write a million.
            (Some(heap), _) => heap.push(byte),
            (None, None) => self.spill(&[byte]),
        }
    }

    #[inline]
    pub(crate) fn extend_from_slice(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        match (&mut self.spilled, self.inline.get_mut(self.len..end)) {
            (None, Some(room)) => {
                room.copy_from_slice(bytes);
                self.len = end;
            }
            (Some(heap), _) => heap.extend_from_slice(bytes),
            (None, None) => self.spill(bytes),
        }
    }

    /// Moves the staged bytes to the heap, with room for `bytes` and as much again.
    /// `first`, `bytes`, then `last`: a tagged, terminated string in one bounds check.
    #[inline]
    pub(crate) fn extend_framed(&mut self, first: u8, bytes: &[u8], last: u8) {
        let end = self.len + bytes.len() + 2;
        match (&mut self.spilled, self.inline.get_mut(self.len..end)) {
            (None, Some([head, middle @ .., tail])) => {
                *head = first;
                middle.copy_from_slice(bytes);
                *tail = last;
                self.len = end;
            }
            _ => {
                self.push(first);
                self.extend_from_slice(bytes);
                self.push(last);
            }
        }
    }

    #[cold]
    fn spill(&mut self, bytes: &[u8]) {
        let mut heap = Vec::with_capacity((INLINE + bytes.len()) * 2);
        heap.extend_from_slice(&self.inline[..self.len]);
        heap.extend_from_slice(bytes);
        self.spilled = Some(heap);
    }

    /// Drops everything from `len` on.
    pub(crate) fn truncate(&mut self, len: usize) {
        match &mut self.spilled {
            Some(heap) => heap.truncate(len),
            None => self.len = self.len.min(len),
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.spilled.as_ref().map_or(self.len, Vec::len)
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        match &self.spilled {
            Some(heap) => heap,
            None => &self.inline[..self.len],
        }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        match &mut self.spilled {
            Some(heap) => heap,
            None => &mut self.inline[..self.len],
        }
    }

    pub(crate) fn into_vec(self) -> Vec<u8> {
        match self.spilled {
            Some(heap) => heap,
            None => self.inline[..self.len].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_past_the_inline_array_spill_in_order() {
        let mut staging = Staging::new();
        let expected: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
        for chunk in expected.chunks(7) {
            staging.extend_from_slice(chunk);
        }
        staging.push(9);
        assert_eq!(staging.len(), 2001);
        assert_eq!(&staging.as_slice()[..2000], &expected[..]);
        staging.truncate(1999);
        staging.push(9);
        assert_eq!(
            staging.as_slice()[1997..],
            [expected[1997], expected[1998], 9]
        );
        assert_eq!(staging.into_vec().len(), 2000);
    }

    #[test]
    fn truncating_before_a_spill_keeps_the_front() {
        let mut staging = Staging::new();
        staging.extend_from_slice(b"abcdef");
        staging.truncate(2);
        staging.push(b'z');
        assert_eq!(staging.as_slice(), b"abz");
        staging.truncate(10);
        assert_eq!(staging.as_slice(), b"abz");
    }
}
