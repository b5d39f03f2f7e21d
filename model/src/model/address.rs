//! Address arithmetic in `u128`: the results a 64-bit address type must give.

const TOP: u128 = 1 << 64;

/// `a + b` if it fits `u64`.
pub fn checked_add(a: u64, b: u64) -> Option<u64> {
    u64::try_from(a as u128 + b as u128).ok()
}

/// `(a + b) mod 2^64` and whether the sum reached 2^64.
pub fn overflowing_add(a: u64, b: u64) -> (u64, bool) {
    let sum = a as u128 + b as u128;
    ((sum % TOP) as u64, sum >= TOP)
}

/// `a - b` if `b <= a`.
pub fn checked_sub(a: u64, b: u64) -> Option<u64> {
    (b <= a).then(|| (a as u128 - b as u128) as u64)
}

/// `(a - b) mod 2^64` and whether `b > a`.
pub fn overflowing_sub(a: u64, b: u64) -> (u64, bool) {
    (((a as u128 + TOP - b as u128) % TOP) as u64, b > a)
}

/// The smallest multiple of `align` (a power of two) at or above `a`, if it fits `u64`.
pub fn checked_align_up(a: u64, align: u64) -> Option<u64> {
    let align = align as u128;
    u64::try_from((a as u128).div_ceil(align) * align).ok()
}

/// `base + offset` of `usize`s if it fits, else `None`.
pub fn usize_add(base: usize, offset: usize) -> Option<usize> {
    usize::try_from(base as u128 + offset as u128).ok()
}
