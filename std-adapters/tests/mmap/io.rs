//! `read_volatile_from` / `write_volatile_to` between guest memory and real files, pipes and
//! sockets (Unix). Miri cannot do I/O on descriptors.

use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;

use vm_memory::bitmap::{AtomicBitmap, Bitmap};
use vm_memory::{
    Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryError, GuestMemoryMmap, ReadVolatile,
    WriteVolatile,
};

use crate::common::temp_file;

/// Two adjacent 4 KiB regions with dirty tracking.
fn memory() -> GuestMemoryMmap<AtomicBitmap> {
    GuestMemoryMmap::from_ranges(&[(GuestAddress(0), 0x1000), (GuestAddress(0x1000), 0x1000)])
        .unwrap()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}

fn dirty(mem: &GuestMemoryMmap<AtomicBitmap>, addr: u64) -> bool {
    let (region, offset) = mem.to_region_addr(GuestAddress(addr)).unwrap();
    region.bitmap().dirty_at(offset.0 as usize)
}

/// Moves `len` bytes from `src` into memory across the region boundary, then from memory to
/// `dst`, and returns what memory held.
fn round_trip<S, D>(src: &mut S, dst: &mut D, len: usize) -> Vec<u8>
where
    S: ReadVolatile,
    D: WriteVolatile,
{
    let mem = memory();
    let addr = GuestAddress(0x1000 - len as u64 / 2);
    mem.read_exact_volatile_from(addr, src, len).unwrap();
    assert!(
        dirty(&mem, 0xfff) && dirty(&mem, 0x1000),
        "both regions were written"
    );
    let mut copy = vec![0u8; len];
    mem.read_slice(&mut copy, addr).unwrap();
    mem.write_all_volatile_to(addr, dst, len).unwrap();
    copy
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read files")]
fn files_fill_and_drain_memory_across_regions() {
    let data = pattern(64);
    let mut src = temp_file(0);
    src.write_all(&data).unwrap();
    src.seek(SeekFrom::Start(0)).unwrap();
    let mut dst = temp_file(0);
    let in_memory = round_trip(&mut src, &mut dst, data.len());
    assert_eq!(in_memory, data);

    let mut written = Vec::new();
    dst.seek(SeekFrom::Start(0)).unwrap();
    dst.read_to_end(&mut written).unwrap();
    assert_eq!(written, data);
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read files")]
fn a_short_file_is_a_partial_buffer_error() {
    let mem = memory();
    let mut src = temp_file(0);
    src.write_all(&[1, 2, 3, 4]).unwrap();
    src.seek(SeekFrom::Start(0)).unwrap();
    let err = mem
        .read_exact_volatile_from(GuestAddress(0x100), &mut src, 8)
        .unwrap_err();
    assert!(matches!(
        err,
        GuestMemoryError::PartialBuffer {
            expected: 8,
            completed: 4
        }
    ));
    // What was read did land.
    assert_eq!(
        mem.read_obj::<u32>(GuestAddress(0x100)).unwrap(),
        u32::from_ne_bytes([1, 2, 3, 4])
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot read files")]
fn reading_into_an_unmapped_address_fails_before_any_io() {
    let mem = memory();
    let mut src = temp_file(16);
    let err = mem
        .read_volatile_from(GuestAddress(0x2000), &mut src, 16)
        .unwrap_err();
    assert!(matches!(
        err,
        GuestMemoryError::InvalidGuestAddress(GuestAddress(0x2000))
    ));
    assert_eq!(src.stream_position().unwrap(), 0, "nothing was consumed");
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support pipes")]
fn pipes_carry_guest_memory() {
    let data = pattern(32);
    let (reader, mut writer) = std::io::pipe().unwrap();
    writer.write_all(&data).unwrap();
    let mut reader = OwnedFd::from(reader);
    let (out_reader, out_writer) = std::io::pipe().unwrap();
    let mut out_writer = OwnedFd::from(out_writer);

    let in_memory = round_trip(&mut reader, &mut out_writer, data.len());
    assert_eq!(in_memory, data);
    drop(out_writer);
    let mut received = Vec::new();
    let mut out_reader = out_reader;
    out_reader.read_to_end(&mut received).unwrap();
    assert_eq!(received, data);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support sockets")]
fn unix_sockets_carry_guest_memory() {
    let data = pattern(48);
    let (mut a, mut b) = UnixStream::pair().unwrap();
    a.write_all(&data).unwrap();
    let mut b_out = b.try_clone().unwrap();
    let in_memory = round_trip(&mut b, &mut b_out, data.len());
    assert_eq!(in_memory, data);
    let mut received = vec![0u8; data.len()];
    a.read_exact(&mut received).unwrap();
    assert_eq!(received, data);
}

#[test]
#[cfg_attr(miri, ignore = "Miri does not support sockets")]
fn tcp_sockets_carry_guest_memory() {
    let data = pattern(40);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(&data).unwrap();
    let mut server_out = server.try_clone().unwrap();
    let in_memory = round_trip(&mut server, &mut server_out, data.len());
    assert_eq!(in_memory, data);
    let mut received = vec![0u8; data.len()];
    client.read_exact(&mut received).unwrap();
    assert_eq!(received, data);
}
