extern crate std;

use std::vec;
use std::vec::Vec;

use super::*;
use crate::bitmap::recording::RecordingBitmap;
use crate::bitmap::{Bitmap, RefSlice};
use crate::bytes::Bytes;
use crate::region::test_regions::leak_buffer;

fn slice(len: usize) -> VolatileSlice<'static> {
    // SAFETY: the buffer is valid for the rest of the process and only used by this slice.
    unsafe { VolatileSlice::new(leak_buffer(len), len) }
}

fn recorded<'a>(
    len: usize,
    bitmap: &'a RecordingBitmap,
) -> VolatileSlice<'a, RefSlice<'a, RecordingBitmap>> {
    // SAFETY: as in `slice`; bitmap offset 0 is the slice's first byte.
    unsafe { VolatileSlice::with_bitmap(leak_buffer(len), len, bitmap.slice_at(0), None) }
}

fn contents<B: BitmapSlice>(s: &VolatileSlice<'_, B>) -> Vec<u8> {
    let mut out = vec![0u8; s.len()];
    s.copy_to(&mut out);
    out
}

#[test]
fn byte_slice_source_fills_a_window_without_overrun() {
    for source_len in [2usize, 4, 5] {
        let buf = slice(5);
        let mut window = buf.subslice(0, 4).unwrap();
        let data: Vec<u8> = (1..=source_len as u8).collect();
        let mut src = &data[..];
        let n = src.read_volatile(&mut window).unwrap();
        assert_eq!(n, source_len.min(4));
        assert_eq!(
            src.len(),
            source_len - n,
            "the source advances past what was read"
        );
        let got = contents(&buf);
        assert_eq!(&got[..n], &data[..n]);
        assert!(
            got[n..].iter().all(|&b| b == 0),
            "nothing past the window: {got:?}"
        );
    }
}

#[test]
fn byte_slice_read_exact_failure_leaves_memory_untouched() {
    let buf = slice(4);
    let mut src: &[u8] = &[1, 2, 3];
    let mut window = buf.subslice(0, 4).unwrap();
    assert!(matches!(
        src.read_exact_volatile(&mut window),
        Err(VolatileMemoryError::PartialBuffer {
            expected: 4,
            completed: 0
        })
    ));
    assert_eq!(contents(&buf), [0; 4]);
    assert_eq!(src.len(), 3);
}

#[test]
fn byte_slice_sink_write_all_too_short_writes_what_fits_then_fails() {
    let buf = slice(4);
    buf.copy_from(&[1u8, 2, 3, 4]);
    let mut out = [0u8; 3];
    let mut sink = &mut out[..];
    assert!(matches!(
        sink.write_all_volatile(&buf),
        Err(VolatileMemoryError::PartialBuffer {
            expected: 4,
            completed: 3
        })
    ));
    assert!(sink.is_empty());
    assert_eq!(out, [1, 2, 3]);
}

#[test]
fn byte_slice_sink_advances_like_std() {
    let buf = slice(2);
    buf.copy_from(&[7u8, 8]);
    let mut out = [0u8; 5];
    let mut sink = &mut out[..];
    assert_eq!(sink.write_volatile(&buf).unwrap(), 2);
    assert_eq!(sink.write_volatile(&buf).unwrap(), 2);
    assert_eq!(sink.write_volatile(&buf).unwrap(), 1);
    assert_eq!(sink.write_volatile(&buf).unwrap(), 0);
    assert_eq!(out, [7, 8, 7, 8, 7]);
}

#[cfg(feature = "alloc")]
#[test]
fn vec_sink_appends_everything() {
    let buf = slice(3);
    buf.copy_from(&[1u8, 2, 3]);
    let mut v = vec![9u8];
    assert_eq!(v.write_volatile(&buf).unwrap(), 3);
    v.write_all_volatile(&buf.subslice(1, 2).unwrap()).unwrap();
    assert_eq!(v, [9, 1, 2, 3, 2, 3]);
}

#[test]
fn reads_from_byte_slices_mark_exactly_the_bytes_read() {
    let bitmap = RecordingBitmap::default();
    let buf = recorded(8, &bitmap);
    let mut window = buf.subslice(2, 6).unwrap();
    (&[1u8, 2, 3][..]).read_volatile(&mut window).unwrap();
    assert_eq!(bitmap.take(), [(2, 3)]);
    let mut empty: &[u8] = &[];
    assert_eq!(empty.read_volatile(&mut window).unwrap(), 0);
    assert!(bitmap.take().is_empty());
}

/// A source that delivers at most `chunk` bytes per call.
struct Trickle<'d> {
    data: &'d [u8],
    chunk: usize,
}

impl ReadVolatile for Trickle<'_> {
    fn read_volatile<B: BitmapSlice>(
        &mut self,
        buf: &mut VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        let n = self.chunk.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        let mut head = head;
        head.read_volatile(buf)
    }
}

#[test]
fn default_read_exact_loops_over_short_reads() {
    let buf = slice(7);
    let data = [1u8, 2, 3, 4, 5, 6, 7];
    let mut src = Trickle {
        data: &data,
        chunk: 2,
    };
    src.read_exact_volatile(&mut buf.clone()).unwrap();
    assert_eq!(contents(&buf), data);
}

#[test]
fn default_read_exact_reports_how_much_arrived_when_the_source_ends() {
    let buf = slice(7);
    let data = [1u8, 2, 3];
    let mut src = Trickle {
        data: &data,
        chunk: 2,
    };
    assert!(matches!(
        src.read_exact_volatile(&mut buf.clone()),
        Err(VolatileMemoryError::PartialBuffer {
            expected: 7,
            completed: 3
        })
    ));
    assert_eq!(&contents(&buf)[..3], &data);
}

/// A sink that accepts at most `chunk` bytes per call, then nothing once `limit` is reached.
struct Narrow {
    got: Vec<u8>,
    chunk: usize,
    limit: usize,
}

impl WriteVolatile for Narrow {
    fn write_volatile<B: BitmapSlice>(
        &mut self,
        buf: &VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        let n = self.chunk.min(buf.len()).min(self.limit - self.got.len());
        let mut tmp = vec![0u8; n];
        buf.subslice(0, n)?.copy_to(&mut tmp);
        self.got.extend_from_slice(&tmp);
        Ok(n)
    }
}

#[test]
fn default_write_all_loops_and_reports_a_stalled_sink() {
    let buf = slice(5);
    buf.copy_from(&[1u8, 2, 3, 4, 5]);
    let mut sink = Narrow {
        got: Vec::new(),
        chunk: 2,
        limit: 100,
    };
    sink.write_all_volatile(&buf).unwrap();
    assert_eq!(sink.got, [1, 2, 3, 4, 5]);
    let mut stalled = Narrow {
        got: Vec::new(),
        chunk: 2,
        limit: 3,
    };
    assert!(matches!(
        stalled.write_all_volatile(&buf),
        Err(VolatileMemoryError::PartialBuffer {
            expected: 5,
            completed: 3
        })
    ));
}

/// A source claiming more bytes than it was given.
struct Liar;

impl ReadVolatile for Liar {
    fn read_volatile<B: BitmapSlice>(
        &mut self,
        buf: &mut VolatileSlice<'_, B>,
    ) -> Result<usize, VolatileMemoryError> {
        Ok(buf.len() + 1)
    }
}

#[test]
fn a_source_that_over_reports_gets_an_error_not_a_bad_slice() {
    let buf = slice(4);
    assert!(Liar.read_exact_volatile(&mut buf.clone()).is_err());
}

#[test]
fn a_source_that_over_reports_gets_an_error_not_a_count_past_the_end() {
    let buf = slice(8);
    assert!(matches!(
        buf.read_volatile_from(2, &mut Liar, 4),
        Err(VolatileMemoryError::OutOfBounds { addr: 5 })
    ));
    assert!(matches!(
        buf.read_exact_volatile_from(2, &mut Liar, 4),
        Err(VolatileMemoryError::OutOfBounds { addr: 5 })
    ));
}

#[cfg(feature = "std")]
mod with_std {
    use std::io::Cursor;
    use std::string::ToString;

    use super::*;

    /// A source that is interrupted `interruptions` times before delivering.
    struct Interrupted {
        interruptions: usize,
        data: Vec<u8>,
    }

    impl ReadVolatile for Interrupted {
        fn read_volatile<B: BitmapSlice>(
            &mut self,
            buf: &mut VolatileSlice<'_, B>,
        ) -> Result<usize, VolatileMemoryError> {
            if self.interruptions > 0 {
                self.interruptions -= 1;
                return Err(std::io::Error::from(std::io::ErrorKind::Interrupted).into());
            }
            let n = (&self.data[..]).read_volatile(buf)?;
            self.data.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn interrupted_reads_are_retried() {
        let buf = slice(4);
        let mut src = Interrupted {
            interruptions: 3,
            data: vec![1, 2, 3, 4],
        };
        src.read_exact_volatile(&mut buf.clone()).unwrap();
        assert_eq!(contents(&buf), [1, 2, 3, 4]);
        let mut src = Interrupted {
            interruptions: 2,
            data: vec![5, 6],
        };
        assert_eq!(Bytes::read_volatile_from(&buf, 0, &mut src, 4).unwrap(), 2);
    }

    #[test]
    fn other_io_errors_are_returned() {
        struct Broken;
        impl ReadVolatile for Broken {
            fn read_volatile<B: BitmapSlice>(
                &mut self,
                _: &mut VolatileSlice<'_, B>,
            ) -> Result<usize, VolatileMemoryError> {
                Err(std::io::Error::other("boom").into())
            }
        }
        let buf = slice(4);
        let err = Broken.read_exact_volatile(&mut buf.clone()).unwrap_err();
        assert!(matches!(&err, VolatileMemoryError::IOError(e) if e.to_string() == "boom"));
        assert!(core::error::Error::source(&err).is_some());
    }

    #[test]
    fn cursor_reads_advance_the_position() {
        let mut cursor = Cursor::new(vec![1u8, 2, 3, 4, 5]);
        let buf = slice(3);
        assert_eq!(cursor.read_volatile(&mut buf.clone()).unwrap(), 3);
        assert_eq!(cursor.position(), 3);
        assert_eq!(cursor.read_volatile(&mut buf.clone()).unwrap(), 2);
        assert_eq!(cursor.position(), 5);
        assert_eq!(cursor.read_volatile(&mut buf.clone()).unwrap(), 0);
        cursor.set_position(100);
        assert_eq!(cursor.read_volatile(&mut buf.clone()).unwrap(), 0);
        let mut cursor = Cursor::new(&[9u8, 8][..]);
        assert!(cursor.read_exact_volatile(&mut buf.clone()).is_err());
        assert_eq!(cursor.position(), 0);
        cursor
            .read_exact_volatile(&mut buf.subslice(0, 2).unwrap())
            .unwrap();
        assert_eq!(cursor.position(), 2);
    }

    #[test]
    fn cursor_over_a_borrowed_vec_reads() {
        let data = vec![4u8, 5];
        let mut cursor = Cursor::new(&data);
        let buf = slice(2);
        cursor.read_exact_volatile(&mut buf.clone()).unwrap();
        assert_eq!(contents(&buf), [4, 5]);
    }

    #[test]
    fn cursor_writes_advance_and_stop_at_the_end() {
        let buf = slice(3);
        buf.copy_from(&[1u8, 2, 3]);
        let mut out = [0u8; 5];
        let mut cursor = Cursor::new(&mut out[..]);
        assert_eq!(cursor.write_volatile(&buf).unwrap(), 3);
        assert_eq!(cursor.write_volatile(&buf).unwrap(), 2);
        assert_eq!(cursor.position(), 5);
        assert_eq!(cursor.write_volatile(&buf).unwrap(), 0);
        assert_eq!(out, [1, 2, 3, 1, 2]);
    }

    #[test]
    fn stdout_accepts_writes() {
        let buf = slice(1);
        buf.copy_from(b"\n");
        assert_eq!(std::io::stdout().write_volatile(&buf).unwrap(), 1);
        assert_eq!((&std::io::stdout()).write_volatile(&buf).unwrap(), 1);
    }
}

#[cfg(all(unix, feature = "rawfd"))]
mod with_fds {
    use std::fs::{File, OpenOptions};
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::net::UnixStream;
    use std::path::PathBuf;

    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(std::format!("vm-memory-core-{}-{name}", std::process::id()))
    }

    #[cfg_attr(miri, ignore = "Miri isolates the file system")]
    #[test]
    fn file_reads_fill_a_window_without_overrun() {
        for source_len in [2usize, 4, 5] {
            let path = temp_path(&std::format!("src{source_len}"));
            let data: Vec<u8> = (1..=source_len as u8).collect();
            std::fs::write(&path, &data).unwrap();
            let mut file = File::open(&path).unwrap();
            let buf = slice(5);
            let n = file
                .read_volatile(&mut buf.subslice(0, 4).unwrap())
                .unwrap();
            assert_eq!(n, source_len.min(4));
            let got = contents(&buf);
            assert_eq!(&got[..n], &data[..n]);
            assert_eq!(got[4], 0);
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[cfg_attr(miri, ignore = "Miri isolates the file system")]
    #[test]
    fn file_writes_write_exactly_the_slice() {
        let path = temp_path("dst");
        let buf = slice(6);
        buf.copy_from(&[1u8, 2, 3, 4, 5, 6]);
        let mut file = File::create(&path).unwrap();
        assert_eq!(
            file.write_volatile(&buf.subslice(1, 4).unwrap()).unwrap(),
            4
        );
        (&file)
            .write_all_volatile(&buf.subslice(0, 1).unwrap())
            .unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), [2, 3, 4, 5, 1]);
        std::fs::remove_file(&path).unwrap();
    }

    #[cfg_attr(miri, ignore = "Miri isolates the file system")]
    #[test]
    fn read_exact_from_an_empty_file_fails() {
        let path = temp_path("empty");
        File::create(&path).unwrap();
        let mut file = File::open(&path).unwrap();
        let buf = slice(4);
        assert!(matches!(
            file.read_exact_volatile(&mut buf.clone()),
            Err(VolatileMemoryError::PartialBuffer {
                expected: 4,
                completed: 0
            })
        ));
        std::fs::remove_file(&path).unwrap();
    }

    #[cfg_attr(miri, ignore = "Miri isolates the file system")]
    #[test]
    fn a_failed_fd_read_marks_the_whole_buffer_and_a_good_one_what_was_read() {
        let path = temp_path("wronly");
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let bitmap = RecordingBitmap::default();
        let buf = recorded(16, &bitmap);
        let err = file
            .read_volatile(&mut buf.subslice(4, 8).unwrap())
            .unwrap_err();
        assert!(
            matches!(&err, VolatileMemoryError::IOError(e) if e.raw_os_error() == Some(libc::EBADF))
        );
        assert_eq!(bitmap.take(), [(4, 8)]);
        file.write_all(&[1, 2, 3]).unwrap();
        let mut file = File::open(&path).unwrap();
        // Through the `&mut File` impl.
        let mut by_ref = &mut file;
        let mut window = buf.subslice(4, 8).unwrap();
        assert_eq!(
            <&mut File as ReadVolatile>::read_volatile(&mut by_ref, &mut window).unwrap(),
            3
        );
        assert_eq!(bitmap.take(), [(4, 3)]);
        std::fs::remove_file(&path).unwrap();
    }

    #[cfg_attr(miri, ignore = "Miri does not model sockets")]
    #[test]
    fn unix_socket_round_trip_through_guest_memory() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let buf = slice(8);
        buf.copy_from(&[1u8, 2, 3, 4, 5, 6, 7, 8]);
        a.write_all_volatile(&buf).unwrap();
        let dst = slice(8);
        (&b).read_exact_volatile(&mut dst.clone()).unwrap();
        assert_eq!(contents(&dst), [1, 2, 3, 4, 5, 6, 7, 8]);
        let fd: OwnedFd = b.try_clone().unwrap().into();
        (&mut &a)
            .write_volatile(&buf.subslice(0, 2).unwrap())
            .unwrap();
        let mut borrowed = fd.as_fd();
        assert_eq!(borrowed.read_volatile(&mut dst.clone()).unwrap(), 2);
        b.write_all(&[9]).unwrap();
        let mut one = [0u8; 1];
        a.read_exact(&mut one).unwrap();
        assert_eq!(one, [9]);
    }

    #[cfg_attr(miri, ignore = "Miri isolates the file system")]
    #[test]
    fn bytes_read_volatile_from_a_file_via_a_slice() {
        use crate::Bytes;
        let path = temp_path("bytes");
        std::fs::write(&path, [5u8, 6, 7]).unwrap();
        let mut file = File::open(&path).unwrap();
        let buf = slice(8);
        assert_eq!(buf.read_volatile_from(6, &mut file, 8).unwrap(), 2);
        file.seek(SeekFrom::Start(0)).unwrap();
        buf.read_exact_volatile_from(0, &mut file, 3).unwrap();
        assert_eq!(contents(&buf), [5, 6, 7, 0, 0, 0, 5, 6]);
        std::fs::remove_file(&path).unwrap();
    }
}
