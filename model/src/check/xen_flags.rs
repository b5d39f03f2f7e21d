//! Xen flags and `MmapRange` validation: every raw flag value against the documented table, and
//! foreign and grant ranges mapped through the Xen crate's recording fake device, each outcome
//! (the exact error, or a mapping of the right kind) compared with the model, and the fake
//! checked for leftovers after every attempt (every error path must undo what it mapped).

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use vm_memory_core::{FileOffset, GuestAddress};
use vm_memory_xen::test_utils::FakeXenDevice;
use vm_memory_xen::{Error, MmapRange, MmapXenFlags, XenMapping};

use super::Ctx;
use crate::input::{Wide, decode, many};
use crate::model::xen::{self as m, Kind, Request, XenErr};

/// Frames (and grant references) of the fake domain.
const FRAMES: u64 = 16;
/// Larger valid ranges are not mapped for real (the model still runs).
const MAX_MAPPED_PAGES: usize = 64;

/// Raw Xen flags: mostly the meaningful bits, sometimes anything.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Bits {
    /// A combination of bits 0..=3.
    Low(u8),
    /// Any value.
    Raw(u32),
}

/// `mmap(2)` flags.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Flags {
    /// Not set (the default).
    Default,
    /// `MAP_SHARED`.
    Shared,
    /// `MAP_PRIVATE | MAP_NORESERVE` (replaced by `MAP_SHARED` for Xen mappings).
    Private,
    /// With `MAP_FIXED`.
    Fixed,
    /// With `MAP_ANONYMOUS`.
    Anonymous,
}

/// The range's file.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum File {
    /// None.
    Missing,
    /// The right device, at offset 0.
    Device,
    /// The right device at another offset.
    Offset(Wide),
}

/// A size.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Size {
    /// `n % 8` pages.
    Pages(u8),
    /// `n % 8` pages plus a delta.
    PagesDelta(u8, i8),
    /// Any size.
    Wide(Wide),
}

/// A guest address.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Addr {
    /// Page `n`.
    Page(u16),
    /// Page `n` plus a delta.
    PageDelta(u16, i8),
    /// Page `n` with the grant bit.
    Grant(u16),
    /// Grant reference near `u32::MAX`.
    HighRef(u8, bool),
    /// Any address.
    Wide(Wide),
}

/// One mapping attempt: a valid foreign, grant or lazy grant range, with at most one field
/// replaced by an arbitrary value (so that both successes and each error are common).
#[derive(Arbitrary, Clone, Copy, Debug)]
pub struct Attempt {
    kind: u8,
    page: u8,
    pages: u8,
    domid: u8,
    /// Which field to replace: 0..=5 (bits, flags, file, size, address, domain id), else none.
    replace: u8,
    bits: Bits,
    flags: Flags,
    file: File,
    size: Size,
    addr: Addr,
    wide_domid: Wide,
}

/// A whole case.
#[derive(Arbitrary, Clone, Debug)]
pub struct Case {
    /// The attempts.
    #[arbitrary(with = |u: &mut Unstructured<'_>| many(u, 16))]
    pub attempts: Vec<Attempt>,
}

/// Decodes and runs one case.
pub fn run(data: &[u8]) {
    if let Ok(case) = decode::<Case>(data) {
        run_case(&case);
    }
}

/// Runs one case.
pub fn run_case(case: &Case) {
    let fake = FakeXenDevice::new(FRAMES);
    let page = fake.page_size();
    let mut ctx = Ctx { case, step: 0 };
    for (step, attempt) in case.attempts.iter().enumerate() {
        ctx.step = step;
        let req = request(attempt, page);
        check_flags(&ctx, req.bits);
        let expected = m::map(&req, page, FRAMES);
        let pages = req.size / page;
        let allocates = matches!(
            expected,
            Ok(_) | Err(XenErr::ForeignFrame(..) | XenErr::GrantMapFailed(..))
        );
        if matches!(expected, Err(XenErr::Other(_))) || (allocates && pages > MAX_MAPPED_PAGES) {
            continue;
        }
        let range = range(&req, &fake);
        let real = XenMapping::with_device(&range, fake.device());
        let outcome = real.as_ref().map(kind_of).map_err(classify);
        ctx.eq(("XenMapping::with_device", req), outcome, expected);
        if let Ok(mapping) = &real {
            ctx.eq("size", mapping.size(), req.size);
            ctx.eq("mmap_data", mapping.mmap_data(), req.domid);
            ctx.eq("shared", mapping.flags() & libc::MAP_TYPE, libc::MAP_SHARED);
        }
        drop(real);
        fake.assert_balanced();
    }
}

fn request(a: &Attempt, page: usize) -> Request {
    let pages = |n: u8| usize::from(n % 8) * page;
    let page64 = page as u64;
    let kind = a.kind % 3;
    let mut req = Request {
        bits: [m::FOREIGN, m::GRANT, m::GRANT | m::NO_ADVANCE_MAP][usize::from(kind)],
        flags: None,
        file_offset: Some(0),
        size: (usize::from(a.pages % 7) + 1) * page,
        // Pages 0..24 of a domain with 16: the end of the domain is often crossed.
        addr: (u64::from(a.page % 24) * page64) | if kind > 0 { m::GRANT_ADDR_BIT } else { 0 },
        domid: u32::from(a.domid % 8),
    };
    match a.replace % 8 {
        0 => {
            req.bits = match a.bits {
                Bits::Low(b) => u32::from(b & 0b1111),
                Bits::Raw(b) => b,
            }
        }
        1 => {
            req.flags = match a.flags {
                Flags::Default => None,
                Flags::Shared => Some(libc::MAP_SHARED),
                Flags::Private => Some(libc::MAP_PRIVATE | libc::MAP_NORESERVE),
                Flags::Fixed => Some(libc::MAP_SHARED | libc::MAP_FIXED),
                Flags::Anonymous => Some(libc::MAP_SHARED | libc::MAP_ANONYMOUS),
            }
        }
        2 => {
            req.file_offset = match a.file {
                File::Missing => None,
                File::Device => Some(0),
                File::Offset(w) => Some(w.get()),
            }
        }
        3 => {
            req.size = match a.size {
                Size::Pages(n) => pages(n),
                Size::PagesDelta(n, d) => pages(n).wrapping_add(d as isize as usize),
                Size::Wide(w) => w.get_usize(),
            }
        }
        4 => {
            req.addr = match a.addr {
                Addr::Page(n) => u64::from(n) * page64,
                Addr::PageDelta(n, d) => (u64::from(n) * page64).wrapping_add(d as i64 as u64),
                Addr::Grant(n) => m::GRANT_ADDR_BIT | (u64::from(n) * page64),
                Addr::HighRef(down, bit) => {
                    let r = u64::from(u32::MAX - u32::from(down % 8));
                    (r * page64) | if bit { m::GRANT_ADDR_BIT } else { 0 }
                }
                Addr::Wide(w) => w.get(),
            }
        }
        5 => req.domid = a.wide_domid.get() as u32,
        _ => {}
    }
    req
}

fn range(req: &Request, fake: &Arc<FakeXenDevice>) -> MmapRange {
    let device = if req.bits & m::FOREIGN != 0 {
        fake.privcmd()
    } else {
        fake.gntdev()
    };
    let file = req
        .file_offset
        .map(|offset| FileOffset::from_arc(Arc::clone(device.arc()), offset));
    let mut range = MmapRange::new(req.size, file, GuestAddress(req.addr), req.bits, req.domid);
    if let Some(flags) = req.flags {
        range.set_flags(flags);
    }
    range
}

fn check_flags<C: std::fmt::Debug>(ctx: &Ctx<'_, C>, bits: u32) {
    let flags = MmapXenFlags::from_bits(bits);
    ctx.eq(("from_bits", bits), flags.is_some(), m::known(bits));
    if let Some(f) = flags {
        ctx.eq(("is_valid", bits), f.is_valid(), m::valid(bits));
        ctx.eq(
            ("is_unix, is_foreign, is_grant, mmap_in_advance", bits),
            (
                f.is_unix(),
                f.is_foreign(),
                f.is_grant(),
                f.mmap_in_advance(),
            ),
            (
                bits == 0,
                bits & m::FOREIGN != 0,
                bits & m::GRANT != 0,
                bits & m::NO_ADVANCE_MAP == 0,
            ),
        );
    }
    let range = MmapRange::new(0x1000, None, GuestAddress(0), bits, 0);
    let expected = if m::known(bits) && m::valid(bits) {
        Ok(bits)
    } else {
        Err(XenErr::InvalidFlags(bits))
    };
    ctx.eq(
        ("MmapRange::xen_flags", bits),
        range
            .xen_flags()
            .map(|f| f.bits())
            .map_err(|e| classify(&e)),
        expected,
    );
}

fn kind_of(mapping: &XenMapping) -> Kind {
    let flags = mapping.xen_flags();
    if flags.is_foreign() {
        Kind::Foreign
    } else if mapping.lazy_mapping().is_some() && mapping.as_ptr().is_null() {
        Kind::LazyGrant
    } else {
        Kind::Grant
    }
}

fn classify(e: &Error) -> XenErr {
    match e {
        Error::InvalidFlags(bits) => XenErr::InvalidFlags(*bits),
        Error::MapFixed => XenErr::MapFixed,
        Error::AnonymousDeviceMapping(_) => XenErr::Anonymous,
        Error::MissingDeviceFile(_) => XenErr::MissingDeviceFile,
        Error::FileOffsetNotZero { offset, .. } => XenErr::FileOffsetNotZero(*offset),
        Error::EmptyRegion => XenErr::EmptyRegion,
        Error::UnalignedSize { size, .. } => XenErr::UnalignedSize(*size),
        Error::UnalignedGuestAddress { addr, .. } => XenErr::UnalignedGuestAddress(*addr),
        Error::TooManyPages(pages) => XenErr::TooManyPages(*pages),
        Error::DomainIdTooLarge(domid) => XenErr::DomainIdTooLarge(*domid),
        Error::FrameOverflow { addr, pages } => XenErr::FrameOverflow(*addr, *pages),
        Error::GrantRefOverflow { addr, pages } => XenErr::GrantRefOverflow(*addr, *pages),
        Error::ForeignFrame { page, pfn, .. } => XenErr::ForeignFrame(*page, *pfn),
        Error::GntdevMapGrantRef {
            first_ref, count, ..
        } => XenErr::GrantMapFailed(*first_ref, *count),
        other => XenErr::Other(format!("{other:?}")),
    }
}
