//! `FakeXenDevice`: a recording stand-in for `/dev/xen/privcmd` and `/dev/xen/gntdev` (feature
//! `test-utils`).
//!
//! The fake owns the "domain memory": a memfd whose page `n` is both guest frame `n` (for foreign
//! mappings) and grant reference `n` (for grant mappings). It maps those pages with real
//! `mmap(2)` calls, so two mappings of the same frame or grant see the same bytes, and tests can
//! read and write the domain's memory directly ([`FakeXenDevice::read_memory`],
//! [`FakeXenDevice::write_memory`]).
//!
//! It records every call ([`Call`]) and checks it like the kernel would, plus the order the
//! drivers need: privcmd mappings start at offset 0 and are populated once by
//! `IOCTL_PRIVCMD_MMAPBATCH_V2` at their first byte; gntdev mappings use the index of a live
//! `IOCTL_GNTDEV_MAP_GRANT_REF` and cover exactly its grants; grants are released only after
//! their mapping is gone; every `munmap` undoes a whole mapping of the device. A broken rule is
//! a *violation*: the call fails with `EINVAL` and [`FakeXenDevice::assert_balanced`] reports it
//! together with anything still mapped. Failures can be injected per operation
//! ([`FakeXenDevice::fail_next`], [`FakeXenDevice::fail_frame`]).

use std::collections::{BTreeMap, VecDeque};
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, RawFd};
use std::os::unix::fs::FileExt;
use std::ptr::{self, NonNull};
use std::sync::{Arc, Mutex, MutexGuard};

use libc::{c_int, c_ulong, c_void};
use vm_memory_core::FileOffset;

use crate::device::XenDevice;
use crate::sys::{self, GntdevGrantRef, GntdevUnmapGrantRef, PrivcmdMmapBatchV2};

/// What an `mmap(2)` call mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Anonymous memory.
    Anonymous,
    /// The fake `/dev/xen/privcmd`.
    Privcmd,
    /// The fake `/dev/xen/gntdev`.
    Gntdev,
    /// Some other file (Unix mappings of a file).
    OtherFile,
}

/// An operation whose next call can be made to fail ([`FakeXenDevice::fail_next`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// `mmap(2)` of this target.
    Mmap(Target),
    /// `munmap(2)` (the memory stays mapped, as when the kernel refuses).
    Munmap,
    /// `IOCTL_PRIVCMD_MMAPBATCH_V2`.
    MmapBatchV2,
    /// `IOCTL_GNTDEV_MAP_GRANT_REF`.
    MapGrantRef,
    /// `IOCTL_GNTDEV_UNMAP_GRANT_REF`.
    UnmapGrantRef,
}

/// One recorded call and its outcome (`Err` holds the errno).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// `mmap(2)`.
    Mmap {
        /// Length.
        len: usize,
        /// Protection.
        prot: i32,
        /// Flags.
        flags: i32,
        /// What was mapped.
        target: Target,
        /// File offset.
        offset: u64,
        /// The address, or the errno.
        result: Result<usize, i32>,
    },
    /// `munmap(2)`.
    Munmap {
        /// Address.
        addr: usize,
        /// Length.
        len: usize,
        /// The errno on failure.
        result: Result<(), i32>,
    },
    /// `IOCTL_PRIVCMD_MMAPBATCH_V2`.
    MmapBatchV2 {
        /// The `num` field.
        num: u32,
        /// The domain.
        domid: u16,
        /// The `addr` field.
        addr: u64,
        /// The frames.
        frames: Vec<u64>,
        /// The per-frame errors written back (0 or a negative errno).
        errors: Vec<i32>,
        /// The errno on failure.
        result: Result<(), i32>,
    },
    /// `IOCTL_GNTDEV_MAP_GRANT_REF`.
    MapGrantRef {
        /// The `count` field.
        count: u32,
        /// The grants.
        refs: Vec<GntdevGrantRef>,
        /// The index returned, or the errno.
        result: Result<u64, i32>,
    },
    /// `IOCTL_GNTDEV_UNMAP_GRANT_REF`.
    UnmapGrantRef {
        /// The `index` field.
        index: u64,
        /// The `count` field.
        count: u32,
        /// The errno on failure.
        result: Result<(), i32>,
    },
    /// An ioctl the fake does not know.
    OtherIoctl {
        /// The request number.
        request: c_ulong,
    },
}

/// A live mapping made by the fake.
#[derive(Debug)]
struct LiveMap {
    len: usize,
    target: Target,
    prot: i32,
    /// For privcmd: whether `MMAPBATCH_V2` populated it.
    populated: bool,
    /// For gntdev: the grant index it maps.
    grant_index: Option<u64>,
}

/// Grants mapped by `MAP_GRANT_REF` and not yet released.
#[derive(Debug)]
struct LiveGrants {
    refs: Vec<u32>,
    mapped_at: Option<usize>,
}

#[derive(Debug, Default)]
struct State {
    calls: Vec<Call>,
    violations: Vec<String>,
    maps: BTreeMap<usize, LiveMap>,
    grants: BTreeMap<u64, LiveGrants>,
    next_index: u64,
    fail_next: BTreeMap<Op, VecDeque<i32>>,
    bad_frames: BTreeMap<u64, i32>,
}

impl State {
    /// Records a broken rule and returns the error the call fails with.
    fn violation(&mut self, what: String) -> io::Error {
        self.violations.push(what);
        io::Error::from_raw_os_error(libc::EINVAL)
    }

    fn injected(&mut self, op: Op) -> Option<i32> {
        self.fail_next.get_mut(&op).and_then(VecDeque::pop_front)
    }
}

/// A fake Xen host: the privcmd and gntdev device files, the domain's memory, and a
/// [`XenDevice`] that records and checks every call against them.
///
/// ```
/// use vm_memory_core::{Bytes, GuestAddress, VolatileMemory};
/// use vm_memory_xen::test_utils::FakeXenDevice;
/// use vm_memory_xen::{MmapRange, MmapXenFlags, XenMapping};
///
/// let fake = FakeXenDevice::new(16);
/// let page = fake.page_size();
/// let range = MmapRange::new(
///     2 * page,
///     Some(fake.gntdev()),
///     GuestAddress(3 * page as u64),
///     (MmapXenFlags::GRANT | MmapXenFlags::NO_ADVANCE_MAP).bits(),
///     1,
/// );
/// let grants = XenMapping::with_device(&range, fake.device()).unwrap();
/// grants.as_volatile_slice().write_obj(0xabcd_u16, 8).unwrap(); // maps grant 3, then unmaps
/// let mut raw = [0u8; 2];
/// fake.read_memory(3 * page as u64 + 8, &mut raw);
/// assert_eq!(u16::from_ne_bytes(raw), 0xabcd);
/// fake.assert_balanced();
/// ```
#[derive(Debug)]
pub struct FakeXenDevice {
    page_size: usize,
    frames: u64,
    memory: File,
    privcmd: Arc<File>,
    gntdev: Arc<File>,
    privcmd_id: (u64, u64),
    gntdev_id: (u64, u64),
    state: Mutex<State>,
}

impl FakeXenDevice {
    /// A fake host whose domain has `frames` pages of memory (frames and grant references
    /// `0..frames`), all zero.
    ///
    /// # Panics
    ///
    /// If the host cannot create memfds (Linux before 3.17).
    pub fn new(frames: u64) -> Arc<Self> {
        let page_size = sys::page_size();
        let memory = memfd(c"fake-xen-domain-memory");
        memory
            .set_len(frames * page_size as u64)
            .expect("size the fake domain memory");
        let privcmd = memfd(c"fake-xen-privcmd");
        let gntdev = memfd(c"fake-xen-gntdev");
        Arc::new(FakeXenDevice {
            page_size,
            frames,
            memory,
            privcmd_id: identity(privcmd.as_raw_fd()).expect("fstat a memfd"),
            gntdev_id: identity(gntdev.as_raw_fd()).expect("fstat a memfd"),
            privcmd: Arc::new(privcmd),
            gntdev: Arc::new(gntdev),
            state: Mutex::new(State::default()),
        })
    }

    /// The device to pass to `XenMapping::with_device` (or `MmapRegion::from_range_with_device`).
    pub fn device(self: &Arc<Self>) -> Arc<dyn XenDevice> {
        Arc::clone(self) as Arc<dyn XenDevice>
    }

    /// The host page size the fake works with.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The fake `/dev/xen/privcmd`, at offset 0, as a foreign range's file.
    pub fn privcmd(&self) -> FileOffset {
        FileOffset::from_arc(Arc::clone(&self.privcmd), 0)
    }

    /// The fake `/dev/xen/gntdev`, at offset 0, as a grant range's file.
    pub fn gntdev(&self) -> FileOffset {
        FileOffset::from_arc(Arc::clone(&self.gntdev), 0)
    }

    /// Reads the domain's memory at byte address `addr` (frame `addr / page_size`).
    ///
    /// # Panics
    ///
    /// If the range is outside the domain's memory.
    pub fn read_memory(&self, addr: u64, buf: &mut [u8]) {
        self.memory
            .read_exact_at(buf, addr)
            .expect("read the fake domain memory");
    }

    /// Writes the domain's memory at byte address `addr`.
    ///
    /// # Panics
    ///
    /// If the range is outside the domain's memory.
    pub fn write_memory(&self, addr: u64, buf: &[u8]) {
        self.memory
            .write_all_at(buf, addr)
            .expect("write the fake domain memory");
    }

    /// Makes the next call of `op` fail with `errno` (calls queue up: two `fail_next` make the
    /// next two calls fail).
    pub fn fail_next(&self, op: Op, errno: i32) {
        self.lock()
            .fail_next
            .entry(op)
            .or_default()
            .push_back(errno);
    }

    /// Makes `IOCTL_PRIVCMD_MMAPBATCH_V2` report `errno` for frame `pfn` (in its error array;
    /// the ioctl itself succeeds, as Linux does for errors other than `ENOENT`).
    pub fn fail_frame(&self, pfn: u64, errno: i32) {
        self.lock().bad_frames.insert(pfn, errno);
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Every call so far, forgetting them.
    pub fn take_calls(&self) -> Vec<Call> {
        std::mem::take(&mut self.lock().calls)
    }

    /// Broken rules so far.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// The number of mappings currently live.
    pub fn live_mappings(&self) -> usize {
        self.lock().maps.len()
    }

    /// The number of `MAP_GRANT_REF` calls not yet released.
    pub fn live_grant_maps(&self) -> usize {
        self.lock().grants.len()
    }

    /// Panics unless no rule was broken and nothing is mapped or granted any more.
    ///
    /// # Panics
    ///
    /// As described, listing what is wrong.
    pub fn assert_balanced(&self) {
        let state = self.lock();
        assert!(
            state.violations.is_empty() && state.maps.is_empty() && state.grants.is_empty(),
            "fake Xen device unbalanced: violations {:?}, live mappings {:?}, live grants {:?}",
            state.violations,
            state.maps,
            state.grants
        );
    }

    /// Panics unless no rule was broken (mappings may be live).
    ///
    /// # Panics
    ///
    /// As described.
    pub fn assert_no_violations(&self) {
        let state = self.lock();
        assert!(
            state.violations.is_empty(),
            "fake Xen device violations: {:?}",
            state.violations
        );
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the state from the others.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn target(&self, fd: Option<BorrowedFd<'_>>) -> Target {
        match fd.and_then(|fd| identity(fd.as_raw_fd()).ok()) {
            None if fd.is_none() => Target::Anonymous,
            Some(id) if id == self.privcmd_id => Target::Privcmd,
            Some(id) if id == self.gntdev_id => Target::Gntdev,
            _ => Target::OtherFile,
        }
    }

    /// Maps page `frame` of the domain memory at `addr`, replacing what is there.
    ///
    /// # Safety
    ///
    /// `addr..addr + page_size` must be inside a reservation the fake made and still owns.
    unsafe fn map_frame(&self, addr: usize, frame: u64, prot: i32) -> io::Result<()> {
        let offset = libc::off_t::try_from(frame * self.page_size as u64)
            .map_err(|_| io::Error::from_raw_os_error(libc::EOVERFLOW))?;
        // SAFETY: caller contract: the page belongs to a reservation of ours, so MAP_FIXED
        // replaces nothing else; the memfd is open.
        let mapped = unsafe {
            libc::mmap(
                ptr::without_provenance_mut::<c_void>(addr),
                self.page_size,
                prot,
                libc::MAP_SHARED | libc::MAP_FIXED,
                self.memory.as_raw_fd(),
                offset,
            )
        };
        if mapped == libc::MAP_FAILED {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    fn mmap_device(
        &self,
        state: &mut State,
        len: usize,
        prot: i32,
        flags: i32,
        target: Target,
        offset: u64,
    ) -> io::Result<NonNull<u8>> {
        if flags & libc::MAP_TYPE != libc::MAP_SHARED {
            return Err(state.violation(format!(
                "{target:?} mapped with flags {flags:#x}, not MAP_SHARED"
            )));
        }
        if len == 0 || !len.is_multiple_of(self.page_size) {
            return Err(state.violation(format!("{target:?} mapping of {len:#x} bytes")));
        }
        let grant = if target == Target::Gntdev {
            let Some(grants) = state.grants.get(&offset) else {
                return Err(state.violation(format!("gntdev mapped at unknown index {offset:#x}")));
            };
            if grants.mapped_at.is_some() {
                return Err(state.violation(format!("grants at index {offset:#x} mapped twice")));
            }
            if grants.refs.len() * self.page_size != len {
                return Err(state.violation(format!(
                    "gntdev mapping of {len:#x} bytes for {} grants",
                    grants.refs.len()
                )));
            }
            Some(grants.refs.clone())
        } else {
            if offset != 0 {
                return Err(state.violation(format!("privcmd mapped at offset {offset:#x}")));
            }
            None
        };
        // A reservation, like the kernel's empty VMA; pages are mapped into it below (grants) or
        // by MMAPBATCH_V2 (foreign).
        let base = sys::mmap(
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            None,
            0,
        )?;
        if let Some(refs) = &grant {
            for (i, &r) in refs.iter().enumerate() {
                // SAFETY: page `i` of the reservation just made.
                if let Err(e) = unsafe {
                    self.map_frame(base.addr().get() + i * self.page_size, u64::from(r), prot)
                } {
                    // SAFETY: the reservation is ours and unused.
                    let _ = unsafe { sys::munmap(base, len) };
                    return Err(e);
                }
            }
            if let Some(grants) = state.grants.get_mut(&offset) {
                grants.mapped_at = Some(base.addr().get());
            }
        }
        state.maps.insert(
            base.addr().get(),
            LiveMap {
                len,
                target,
                prot,
                populated: false,
                grant_index: grant.map(|_| offset),
            },
        );
        Ok(base)
    }

    fn mmap_batch(&self, state: &mut State, arg: *mut c_void) -> (Call, io::Result<c_int>) {
        // SAFETY: `XenDevice::ioctl` contract: `arg` is a `privcmd_mmapbatch_v2`.
        let batch = unsafe { ptr::read_unaligned(arg.cast::<PrivcmdMmapBatchV2>()) };
        let num = batch.num as usize;
        let frames: Vec<u64> = (0..num)
            // SAFETY: the contract makes `arr` valid for `num` frames; `i < num`.
            .map(|i| unsafe { ptr::read_unaligned(batch.arr.wrapping_add(i)) } as u64)
            .collect();
        let call = |errors: Vec<i32>, result: Result<(), i32>| Call::MmapBatchV2 {
            num: batch.num,
            domid: batch.dom,
            addr: batch.addr,
            frames: frames.clone(),
            errors,
            result,
        };
        let addr = batch.addr as usize;
        let check = match state.maps.get(&addr) {
            Some(m) if m.target == Target::Privcmd && !m.populated => {
                if m.len == num * self.page_size {
                    Ok(m.prot)
                } else {
                    Err(format!(
                        "MMAPBATCH_V2 of {num} frames into a mapping of {:#x} bytes",
                        m.len
                    ))
                }
            }
            Some(m) if m.target == Target::Privcmd => {
                Err(format!("MMAPBATCH_V2 twice at {addr:#x}"))
            }
            _ => Err(format!(
                "MMAPBATCH_V2 at {addr:#x}, not the start of a privcmd mapping"
            )),
        };
        let prot = match check {
            Ok(prot) => prot,
            Err(what) => {
                let e = state.violation(what);
                return (call(vec![], Err(libc::EINVAL)), Err(e));
            }
        };
        if let Some(errno) = state.injected(Op::MmapBatchV2) {
            return (
                call(vec![], Err(errno)),
                Err(io::Error::from_raw_os_error(errno)),
            );
        }
        let mut errors = Vec::with_capacity(num);
        for (i, &frame) in frames.iter().enumerate() {
            let err = if let Some(&errno) = state.bad_frames.get(&frame) {
                -errno
            } else if frame >= self.frames {
                -libc::EINVAL
            } else {
                // SAFETY: page `i` of the privcmd reservation checked above.
                match unsafe { self.map_frame(addr + i * self.page_size, frame, prot) } {
                    Ok(()) => 0,
                    Err(e) => -e.raw_os_error().unwrap_or(libc::EIO),
                }
            };
            errors.push(err);
            // SAFETY: the contract makes `err` valid for `num` ints; `i < num`.
            unsafe { ptr::write_unaligned(batch.err.wrapping_add(i), err) };
        }
        if let Some(m) = state.maps.get_mut(&addr) {
            m.populated = true;
        }
        (call(errors, Ok(())), Ok(0))
    }

    fn map_grant_ref(&self, state: &mut State, arg: *mut c_void) -> (Call, io::Result<c_int>) {
        // SAFETY: `XenDevice::ioctl` contract: `arg` is a map request with `count` grants.
        let (head, refs) = unsafe { sys::read_map_grant_ref(arg) };
        let call = |result| Call::MapGrantRef {
            count: head.count,
            refs: refs.clone(),
            result,
        };
        if head.count == 0 || head.pad != 0 {
            let e = state.violation(format!(
                "MAP_GRANT_REF with count {} pad {}",
                head.count, head.pad
            ));
            return (call(Err(libc::EINVAL)), Err(e));
        }
        if let Some(errno) = state.injected(Op::MapGrantRef) {
            return (call(Err(errno)), Err(io::Error::from_raw_os_error(errno)));
        }
        if refs.iter().any(|r| u64::from(r.r#ref) >= self.frames) {
            return (
                call(Err(libc::EINVAL)),
                Err(io::Error::from_raw_os_error(libc::EINVAL)),
            );
        }
        let index = state.next_index;
        state.next_index += u64::from(head.count) * self.page_size as u64;
        state.grants.insert(
            index,
            LiveGrants {
                refs: refs.iter().map(|r| r.r#ref).collect(),
                mapped_at: None,
            },
        );
        let header = arg.cast::<sys::GntdevMapGrantRef>();
        // SAFETY: the contract makes the header writable; `index` is inside it.
        unsafe { ptr::write_unaligned(&raw mut (*header).index, index) };
        (call(Ok(index)), Ok(0))
    }

    fn unmap_grant_ref(&self, state: &mut State, arg: *mut c_void) -> (Call, io::Result<c_int>) {
        // SAFETY: `XenDevice::ioctl` contract: `arg` is an unmap request.
        let request = unsafe { ptr::read_unaligned(arg.cast::<GntdevUnmapGrantRef>()) };
        let call = |result| Call::UnmapGrantRef {
            index: request.index,
            count: request.count,
            result,
        };
        let problem = match state.grants.get(&request.index) {
            None => Some(format!(
                "UNMAP_GRANT_REF of unknown index {:#x}",
                request.index
            )),
            Some(g) if g.refs.len() != request.count as usize => Some(format!(
                "UNMAP_GRANT_REF of {} grants at index {:#x} mapped with {}",
                request.count,
                request.index,
                g.refs.len()
            )),
            Some(g) if g.mapped_at.is_some() => Some(format!(
                "UNMAP_GRANT_REF at index {:#x} before munmap",
                request.index
            )),
            Some(_) => None,
        };
        if let Some(what) = problem
            .or_else(|| (request.pad != 0).then(|| "UNMAP_GRANT_REF with padding".to_owned()))
        {
            let e = state.violation(what);
            return (call(Err(libc::EINVAL)), Err(e));
        }
        if let Some(errno) = state.injected(Op::UnmapGrantRef) {
            return (call(Err(errno)), Err(io::Error::from_raw_os_error(errno)));
        }
        state.grants.remove(&request.index);
        (call(Ok(())), Ok(0))
    }
}

// SAFETY: `mmap` returns fresh mappings made by the kernel (reservations with memfd pages mapped
// into them with MAP_FIXED, or passthrough mappings), which nothing else uses; MMAPBATCH_V2 maps
// only into the privcmd reservation named by its argument and writes only the error array;
// MAP_GRANT_REF writes only `index`; `munmap` unmaps only whole mappings it made.
unsafe impl XenDevice for FakeXenDevice {
    fn mmap(
        &self,
        len: usize,
        prot: c_int,
        flags: c_int,
        fd: Option<BorrowedFd<'_>>,
        offset: u64,
    ) -> io::Result<NonNull<u8>> {
        let target = self.target(fd);
        let mut state = self.lock();
        let result = if flags & libc::MAP_FIXED != 0 {
            Err(state.violation(format!("MAP_FIXED requested for {target:?}")))
        } else if let Some(errno) = state.injected(Op::Mmap(target)) {
            Err(io::Error::from_raw_os_error(errno))
        } else {
            match target {
                Target::Privcmd | Target::Gntdev => {
                    self.mmap_device(&mut state, len, prot, flags, target, offset)
                }
                Target::Anonymous | Target::OtherFile => {
                    sys::mmap(len, prot, flags, fd.map(|fd| fd.as_raw_fd()), offset).inspect(|p| {
                        state.maps.insert(
                            p.addr().get(),
                            LiveMap {
                                len,
                                target,
                                prot,
                                populated: true,
                                grant_index: None,
                            },
                        );
                    })
                }
            }
        };
        state.calls.push(Call::Mmap {
            len,
            prot,
            flags,
            target,
            offset,
            result: result
                .as_ref()
                .map(|p| p.addr().get())
                .map_err(|e| e.raw_os_error().unwrap_or(0)),
        });
        result
    }

    unsafe fn munmap(&self, addr: NonNull<u8>, len: usize) -> io::Result<()> {
        let mut state = self.lock();
        let key = addr.addr().get();
        let result = match state.maps.get(&key) {
            Some(m) if m.len == len => {
                if let Some(errno) = state.injected(Op::Munmap) {
                    Err(io::Error::from_raw_os_error(errno))
                } else {
                    // SAFETY: a whole mapping of ours, which the caller no longer uses.
                    unsafe { sys::munmap(addr, len) }
                }
            }
            Some(m) => {
                let what = format!(
                    "munmap of {len:#x} bytes at {key:#x}, mapped with {:#x}",
                    m.len
                );
                Err(state.violation(what))
            }
            None => Err(state.violation(format!("munmap of {key:#x}, which is not mapped"))),
        };
        if result.is_ok()
            && let Some(m) = state.maps.remove(&key)
            && let Some(index) = m.grant_index
            && let Some(grants) = state.grants.get_mut(&index)
        {
            grants.mapped_at = None;
        }
        state.calls.push(Call::Munmap {
            addr: key,
            len,
            result: result
                .as_ref()
                .map(|_| ())
                .map_err(|e| e.raw_os_error().unwrap_or(0)),
        });
        result
    }

    unsafe fn ioctl(
        &self,
        fd: BorrowedFd<'_>,
        request: c_ulong,
        arg: *mut c_void,
    ) -> io::Result<c_int> {
        let target = self.target(Some(fd));
        let mut state = self.lock();
        let expected = match request {
            sys::IOCTL_PRIVCMD_MMAPBATCH_V2 => Target::Privcmd,
            sys::IOCTL_GNTDEV_MAP_GRANT_REF | sys::IOCTL_GNTDEV_UNMAP_GRANT_REF => Target::Gntdev,
            _ => {
                state.calls.push(Call::OtherIoctl { request });
                let what = format!("unknown ioctl {request:#x}");
                state.violations.push(what);
                return Err(io::Error::from_raw_os_error(libc::ENOTTY));
            }
        };
        if target != expected {
            state.calls.push(Call::OtherIoctl { request });
            return Err(state.violation(format!("ioctl {request:#x} on {target:?}")));
        }
        let (call, result) = match request {
            sys::IOCTL_PRIVCMD_MMAPBATCH_V2 => self.mmap_batch(&mut state, arg),
            sys::IOCTL_GNTDEV_MAP_GRANT_REF => self.map_grant_ref(&mut state, arg),
            _ => self.unmap_grant_ref(&mut state, arg),
        };
        state.calls.push(call);
        result
    }
}

/// A new memfd.
fn memfd(name: &CStr) -> File {
    // SAFETY: `name` is a valid C string; the flags are valid.
    let fd: RawFd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0, "memfd_create: {}", io::Error::last_os_error());
    // SAFETY: `fd` is a fresh descriptor that nothing else owns.
    unsafe { File::from_raw_fd(fd) }
}

/// The device and inode of an open file, which survive `dup`.
fn identity(fd: RawFd) -> io::Result<(u64, u64)> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `stat` is writable storage for one `struct stat`.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fstat` succeeded, so it initialized `stat`.
    let stat = unsafe { stat.assume_init() };
    #[allow(
        clippy::useless_conversion,
        reason = "the field types differ between targets"
    )]
    Ok((u64::from(stat.st_dev), u64::from(stat.st_ino)))
}
