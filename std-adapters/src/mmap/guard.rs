//! Placing a mapping inside a `PROT_NONE` reservation: guard pages around it, and alignment.
//!
//! The region's memory is mapped with `MAP_FIXED` over the middle of a reservation this module
//! just made, so it can only replace our own inaccessible pages. The reservation is then trimmed
//! to `[guard][region][guard]`, and the whole range is unmapped together when the region drops.
//! A stray access just before or after the region (through a raw pointer; slices are bounds
//! checked) hits a guard page and faults instead of reading or corrupting a neighbour.

use std::io;
use std::os::fd::BorrowedFd;

use super::unix::{Mapping, page_size};

/// Where a region goes inside its reservation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Plan {
    /// Bytes to reserve.
    reserve: usize,
    /// Offset of the region inside the reservation.
    region: usize,
    /// Offset of the range kept after trimming (the leading guard).
    keep: usize,
    /// Length of the range kept after trimming.
    keep_len: usize,
}

/// Plans a region of `len` bytes (a multiple of `page`) with `guard` bytes on each side, starting
/// at a multiple of `align`, in a reservation that the kernel will place at `base`.
///
/// The reservation is over-sized by `align - page` so that an aligned start exists wherever the
/// kernel puts it; `base` is only known afterwards, so [`plan_size`] and [`plan_at`] are split.
fn plan_size(len: usize, guard: usize, align: usize, page: usize) -> Option<usize> {
    len.checked_add(guard.checked_mul(2)?)?
        .checked_add(align.checked_sub(page)?)
}

/// Completes the plan once the reservation's `base` is known.
fn plan_at(base: usize, reserve: usize, len: usize, guard: usize, align: usize) -> Option<Plan> {
    let first = base.checked_add(guard)?;
    let start = first.checked_add(align - 1)? & !(align - 1);
    let region = start - base;
    let keep = region - guard;
    let keep_len = len.checked_add(guard.checked_mul(2)?)?;
    (keep.checked_add(keep_len)? <= reserve).then_some(Plan {
        reserve,
        region,
        keep,
        keep_len,
    })
}

/// Maps `len` bytes (rounded up to pages) with `prot` and `flags`, of `file` if given, starting
/// at a multiple of `align`, with `guard` bytes of `PROT_NONE` on each side.
///
/// Returns the owned mapping (guards included) and the first byte of the region.
///
/// # Errors
///
/// `InvalidInput` if `guard` is not a multiple of the page size or `align` is not a power of two
/// at least the page size, `ENOMEM` if the sizes overflow, or the `mmap(2)` error.
pub(crate) fn map_placed(
    len: usize,
    prot: i32,
    flags: i32,
    file: Option<(BorrowedFd<'_>, libc::off_t)>,
    guard: usize,
    align: usize,
) -> io::Result<(Mapping, *mut u8)> {
    let page = page_size();
    if !guard.is_multiple_of(page) || !align.is_power_of_two() || align < page || len == 0 {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    let enomem = || io::Error::from_raw_os_error(libc::ENOMEM);
    let len = len.checked_next_multiple_of(page).ok_or_else(enomem)?;
    let reserve = plan_size(len, guard, align, page).ok_or_else(enomem)?;
    let reservation = Mapping::new(
        reserve,
        libc::PROT_NONE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
        None,
    )?;
    let plan = plan_at(reservation.base().addr(), reserve, len, guard, align).ok_or_else(enomem)?;
    // SAFETY: the reservation is fresh and inaccessible; nothing points into it yet.
    let (reservation, start) =
        unsafe { reservation.map_fixed(plan.region, len, prot, flags, file) }?;
    let mapping = reservation.trim(plan.keep, plan.keep_len)?;
    Ok((mapping, start))
}

#[cfg(test)]
mod tests {
    use super::{Plan, plan_at, plan_size};

    const PAGE: usize = 0x1000;
    const HUGE: usize = 0x20_0000;

    #[test]
    fn guards_without_alignment_surround_the_region_exactly() {
        let reserve = plan_size(3 * PAGE, PAGE, PAGE, PAGE).unwrap();
        assert_eq!(reserve, 5 * PAGE);
        let plan = plan_at(0x7000_0000, reserve, 3 * PAGE, PAGE, PAGE).unwrap();
        assert_eq!(
            plan,
            Plan {
                reserve,
                region: PAGE,
                keep: 0,
                keep_len: 5 * PAGE
            }
        );
    }

    #[test]
    fn alignment_puts_the_region_on_the_next_boundary_for_any_base() {
        let len = 2 * HUGE;
        let reserve = plan_size(len, PAGE, HUGE, PAGE).unwrap();
        for base in (0x4000_0000..0x4000_0000 + 2 * HUGE).step_by(PAGE) {
            let plan = plan_at(base, reserve, len, PAGE, HUGE).unwrap();
            let start = base + plan.region;
            assert_eq!(start % HUGE, 0, "base {base:#x}");
            assert!(
                plan.region >= PAGE,
                "room for the leading guard at base {base:#x}"
            );
            assert_eq!(plan.keep + PAGE, plan.region);
            assert!(plan.keep + plan.keep_len <= reserve, "base {base:#x}");
        }
    }

    #[test]
    fn alignment_without_guards_keeps_only_the_region() {
        let reserve = plan_size(HUGE, 0, HUGE, PAGE).unwrap();
        let plan = plan_at(0x1000, reserve, HUGE, 0, HUGE).unwrap();
        assert_eq!(plan.region, HUGE - 0x1000);
        assert_eq!((plan.keep, plan.keep_len), (plan.region, HUGE));
    }

    #[test]
    fn sizes_that_overflow_are_refused() {
        assert_eq!(plan_size(usize::MAX - PAGE + 1, PAGE, PAGE, PAGE), None);
        assert_eq!(plan_size(PAGE, usize::MAX / 2 + 1, PAGE, PAGE), None);
        assert_eq!(
            plan_at(usize::MAX - PAGE + 1, 3 * PAGE, PAGE, PAGE, PAGE),
            None
        );
    }
}
