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
        match (&self.spilled, self.inline.get_mut(self.len)) {
            (None, Some(slot)) => {
                *slot = byte;
                self.len += 1;
            }
            _ => self.spill(&[byte]),
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
            _ => self.spill(bytes),
        }
    }

    #[cold]
    fn spill(&mut self, bytes: &[u8]) {
        let spilled = self.spilled.get_or_insert_with(|| {
            let mut heap = Vec::with_capacity(INLINE * 2);
            heap.extend_from_slice(&self.inline[..self.len]);
            heap
        });
        spilled.extend_from_slice(bytes);
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
        assert_eq!(staging.into_vec().last(), Some(&9));
    }
}
