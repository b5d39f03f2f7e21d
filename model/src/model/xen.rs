//! Xen flags and the validation of `MmapRange`s for foreign and grant mappings, as documented
//! by the Xen crate (and, where it differs from vm-memory 0.18, by `DESIGN.md`).

/// `FOREIGN`.
pub const FOREIGN: u32 = 1;
/// `GRANT`.
pub const GRANT: u32 = 1 << 1;
/// `NO_ADVANCE_MAP`.
pub const NO_ADVANCE_MAP: u32 = 1 << 3;
/// Bit 63 of a grant region's guest address.
pub const GRANT_ADDR_BIT: u64 = 1 << 63;

/// The flags a raw value holds, if it has no unknown bit (`from_bits`).
pub fn known(bits: u32) -> bool {
    bits & !(FOREIGN | GRANT | NO_ADVANCE_MAP) == 0
}

/// The four valid values: Unix (0), foreign, grant, grant without advance mapping.
pub fn valid(bits: u32) -> bool {
    matches!(bits, 0 | FOREIGN | GRANT) || bits == GRANT | NO_ADVANCE_MAP
}

/// Which mapping a range asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// privcmd.
    Foreign,
    /// gntdev, mapped in advance.
    Grant,
    /// gntdev, mapped per access.
    LazyGrant,
}

/// A mapping request for a foreign or grant range.
#[derive(Clone, Copy, Debug)]
pub struct Request {
    /// Raw Xen flags.
    pub bits: u32,
    /// `mmap(2)` flags (`None`: the default).
    pub flags: Option<i32>,
    /// The device file's offset (`None`: no file).
    pub file_offset: Option<u64>,
    /// Size in bytes.
    pub size: usize,
    /// Guest address.
    pub addr: u64,
    /// Domain id.
    pub domid: u32,
}

/// A predicted error, with the fields the checks compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XenErr {
    /// `InvalidFlags(bits)`.
    InvalidFlags(u32),
    /// `MapFixed`.
    MapFixed,
    /// `AnonymousDeviceMapping`.
    Anonymous,
    /// `MissingDeviceFile`.
    MissingDeviceFile,
    /// `FileOffsetNotZero(offset)`.
    FileOffsetNotZero(u64),
    /// `EmptyRegion`.
    EmptyRegion,
    /// `UnalignedSize(size)`.
    UnalignedSize(usize),
    /// `UnalignedGuestAddress(addr)`.
    UnalignedGuestAddress(u64),
    /// `TooManyPages(pages)`.
    TooManyPages(usize),
    /// `DomainIdTooLarge(domid)`.
    DomainIdTooLarge(u32),
    /// `FrameOverflow { addr, pages }`.
    FrameOverflow(u64, usize),
    /// `GrantRefOverflow { addr, pages }`.
    GrantRefOverflow(u64, usize),
    /// `ForeignFrame { page, pfn }`: the first frame the domain does not have.
    ForeignFrame(usize, u64),
    /// `GntdevMapGrantRef { first_ref, count }`.
    GrantMapFailed(u32, u32),
    /// Anything else.
    Other(String),
}

/// The outcome of mapping `req` on a host with `page` byte pages whose domain has `frames`
/// frames (and grant references): the kind of the mapping, or the first check that fails, in the
/// documented order: flags, `MAP_FIXED`, then the device checks (anonymous, file, file offset,
/// size, alignment of size and address, page count), then the kind's own: domain id and frame
/// numbers (foreign), grant references (grant); finally what the domain refuses.
pub fn map(req: &Request, page: usize, frames: u64) -> Result<Kind, XenErr> {
    if !(known(req.bits) && valid(req.bits)) {
        return Err(XenErr::InvalidFlags(req.bits));
    }
    let flags = req.flags.unwrap_or(libc::MAP_NORESERVE | libc::MAP_SHARED);
    if flags & libc::MAP_FIXED != 0 {
        return Err(XenErr::MapFixed);
    }
    let kind = match req.bits {
        FOREIGN => Kind::Foreign,
        GRANT => Kind::Grant,
        b if b == GRANT | NO_ADVANCE_MAP => Kind::LazyGrant,
        _ => return Err(XenErr::Other("a Unix range".into())),
    };
    if flags & libc::MAP_ANONYMOUS != 0 {
        return Err(XenErr::Anonymous);
    }
    let offset = req.file_offset.ok_or(XenErr::MissingDeviceFile)?;
    if offset != 0 {
        return Err(XenErr::FileOffsetNotZero(offset));
    }
    if req.size == 0 {
        return Err(XenErr::EmptyRegion);
    }
    if !req.size.is_multiple_of(page) {
        return Err(XenErr::UnalignedSize(req.size));
    }
    if !req.addr.is_multiple_of(page as u64) {
        return Err(XenErr::UnalignedGuestAddress(req.addr));
    }
    let pages = req.size / page;
    if u32::try_from(pages).is_err() {
        return Err(XenErr::TooManyPages(pages));
    }
    let pages64 = pages as u128;
    match kind {
        Kind::Foreign => {
            if req.domid > u32::from(u16::MAX) {
                return Err(XenErr::DomainIdTooLarge(req.domid));
            }
            let first = u128::from(req.addr / page as u64);
            if first + pages64 - 1 > u128::from(u64::MAX) {
                return Err(XenErr::FrameOverflow(req.addr, pages));
            }
            if first + pages64 > u128::from(frames) {
                let page_index = u128::from(frames).saturating_sub(first) as usize;
                return Err(XenErr::ForeignFrame(
                    page_index,
                    (first as u64) + page_index as u64,
                ));
            }
        }
        Kind::Grant | Kind::LazyGrant => {
            let first = u128::from((req.addr & !GRANT_ADDR_BIT) / page as u64);
            if first + pages64 - 1 > u128::from(u32::MAX) {
                return Err(XenErr::GrantRefOverflow(req.addr, pages));
            }
            if kind == Kind::Grant && first + pages64 > u128::from(frames) {
                return Err(XenErr::GrantMapFailed(first as u32, pages as u32));
            }
        }
    }
    Ok(kind)
}
