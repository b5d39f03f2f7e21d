//! A test bitmap that records every `mark_dirty` call, to check that each write path marks the
//! right bytes.

extern crate std;

use std::sync::Mutex;
use std::vec::Vec;

use super::{Bitmap, RefSlice, WithBitmapSlice};

/// Records `(offset, len)` of every `mark_dirty` (offsets relative to the bitmap's owner).
#[derive(Debug, Default)]
pub(crate) struct RecordingBitmap {
    marks: Mutex<Vec<(usize, usize)>>,
}

impl RecordingBitmap {
    /// The marks so far, cleared.
    pub(crate) fn take(&self) -> Vec<(usize, usize)> {
        core::mem::take(&mut *self.marks.lock().unwrap())
    }
}

impl<'a> WithBitmapSlice<'a> for RecordingBitmap {
    type S = RefSlice<'a, Self>;
}

impl Bitmap for RecordingBitmap {
    fn mark_dirty(&self, offset: usize, len: usize) {
        if len > 0 {
            self.marks.lock().unwrap().push((offset, len));
        }
    }

    fn dirty_at(&self, offset: usize) -> bool {
        self.marks
            .lock()
            .unwrap()
            .iter()
            .any(|&(o, l)| offset >= o && offset - o < l)
    }

    fn slice_at(&self, offset: usize) -> RefSlice<'_, Self> {
        RefSlice::new(self, offset)
    }
}

impl super::NewBitmap for RecordingBitmap {
    fn with_len(_len: usize) -> Self {
        Self::default()
    }
}
