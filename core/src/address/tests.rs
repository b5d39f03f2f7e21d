use super::*;

extern crate std;
use std::panic::catch_unwind;
use std::string::String;

fn panic_text(f: impl FnOnce() + std::panic::UnwindSafe) -> Option<String> {
    let err = catch_unwind(f).err()?;
    err.downcast_ref::<&str>()
        .map(|s| String::from(*s))
        .or_else(|| err.downcast_ref::<String>().cloned())
}

#[test]
fn new_raw_value_and_default_are_consistent() {
    assert_eq!(GuestAddress::new(0x1234).raw_value(), 0x1234);
    assert_eq!(MemoryRegionAddress::new(7).raw_value(), 7);
    assert_eq!(GuestAddress::default(), GuestAddress(0));
    assert_eq!(MemoryRegionAddress::default(), MemoryRegionAddress(0));
    assert_eq!(<GuestAddress as AddressValue>::zero(), 0);
    assert_eq!(<GuestAddress as AddressValue>::one(), 1);
}

#[test]
fn mask_and_bit_operators_work_on_the_raw_value() {
    let a = GuestAddress(0xff_1234);
    assert_eq!(a.mask(0xfff), 0x234);
    assert_eq!(a & 0xff_0000, GuestAddress(0xff_0000));
    assert_eq!(GuestAddress(0x1000) | 0x0f, GuestAddress(0x100f));
}

#[test]
fn ordering_follows_the_raw_value() {
    assert!(GuestAddress(1) < GuestAddress(2));
    assert!(MemoryRegionAddress(u64::MAX) > MemoryRegionAddress(0));
    assert_eq!(GuestAddress(5).max(GuestAddress(3)), GuestAddress(5));
}

#[test]
fn hash_is_derived_for_use_as_map_keys() {
    use std::collections::HashSet;
    let set: HashSet<GuestAddress> = [GuestAddress(1), GuestAddress(1), GuestAddress(2)]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 2);
}

#[test]
fn checked_add_at_u64_max_is_none() {
    assert_eq!(GuestAddress(u64::MAX).checked_add(1), None);
    assert_eq!(
        GuestAddress(u64::MAX - 1).checked_add(1),
        Some(GuestAddress(u64::MAX))
    );
    assert_eq!(GuestAddress(1).checked_add(u64::MAX), None);
    assert_eq!(
        GuestAddress(0).checked_add(u64::MAX),
        Some(GuestAddress(u64::MAX))
    );
}

#[test]
fn overflowing_add_wraps_and_reports() {
    assert_eq!(
        GuestAddress(u64::MAX).overflowing_add(1),
        (GuestAddress(0), true)
    );
    assert_eq!(
        GuestAddress(u64::MAX).overflowing_add(2),
        (GuestAddress(1), true)
    );
    assert_eq!(GuestAddress(1).overflowing_add(1), (GuestAddress(2), false));
}

#[test]
fn checked_sub_below_zero_is_none() {
    assert_eq!(GuestAddress(0).checked_sub(1), None);
    assert_eq!(GuestAddress(1).checked_sub(1), Some(GuestAddress(0)));
    assert_eq!(
        GuestAddress(u64::MAX).checked_sub(u64::MAX),
        Some(GuestAddress(0))
    );
}

#[test]
fn overflowing_sub_wraps_and_reports() {
    assert_eq!(
        GuestAddress(0).overflowing_sub(1),
        (GuestAddress(u64::MAX), true)
    );
    assert_eq!(GuestAddress(3).overflowing_sub(1), (GuestAddress(2), false));
}

#[test]
fn unchecked_add_and_sub_in_range() {
    assert_eq!(GuestAddress(0x10).unchecked_add(0x10), GuestAddress(0x20));
    assert_eq!(GuestAddress(0x10).unchecked_sub(0x10), GuestAddress(0));
    assert_eq!(
        GuestAddress(u64::MAX - 1).unchecked_add(1),
        GuestAddress(u64::MAX)
    );
}

#[test]
#[cfg(debug_assertions)]
fn unchecked_add_overflow_panics_with_std_text_in_debug() {
    let text = panic_text(|| {
        let _ = GuestAddress(u64::MAX).unchecked_add(1);
    });
    assert_eq!(text.as_deref(), Some("attempt to add with overflow"));
}

#[test]
#[cfg(debug_assertions)]
fn unchecked_sub_underflow_panics_with_std_text_in_debug() {
    let text = panic_text(|| {
        let _ = GuestAddress(0).unchecked_sub(1);
    });
    assert_eq!(text.as_deref(), Some("attempt to subtract with overflow"));
}

#[test]
#[cfg(not(debug_assertions))]
fn unchecked_add_and_sub_wrap_in_release() {
    assert_eq!(GuestAddress(u64::MAX).unchecked_add(1), GuestAddress(0));
    assert_eq!(GuestAddress(0).unchecked_sub(1), GuestAddress(u64::MAX));
}

#[test]
fn checked_offset_from_underflow_is_none() {
    assert_eq!(
        GuestAddress(0x100).checked_offset_from(GuestAddress(0x10)),
        Some(0xf0)
    );
    assert_eq!(
        GuestAddress(0x10).checked_offset_from(GuestAddress(0x100)),
        None
    );
    assert_eq!(
        GuestAddress(u64::MAX).checked_offset_from(GuestAddress(0)),
        Some(u64::MAX)
    );
}

#[test]
fn unchecked_offset_from_in_range() {
    assert_eq!(
        GuestAddress(0x100).unchecked_offset_from(GuestAddress(0x10)),
        0xf0
    );
}

#[test]
#[cfg(debug_assertions)]
fn unchecked_offset_from_underflow_panics_in_debug() {
    let text = panic_text(|| {
        let _ = GuestAddress(0).unchecked_offset_from(GuestAddress(1));
    });
    assert_eq!(text.as_deref(), Some("attempt to subtract with overflow"));
}

#[test]
fn checked_align_up_rounds_to_the_next_multiple() {
    assert_eq!(
        GuestAddress(0).checked_align_up(0x1000),
        Some(GuestAddress(0))
    );
    assert_eq!(
        GuestAddress(1).checked_align_up(0x1000),
        Some(GuestAddress(0x1000))
    );
    assert_eq!(
        GuestAddress(0x1000).checked_align_up(0x1000),
        Some(GuestAddress(0x1000))
    );
    assert_eq!(
        GuestAddress(0x1001).checked_align_up(1),
        Some(GuestAddress(0x1001))
    );
}

#[test]
fn checked_align_up_overflow_near_u64_max_is_none() {
    assert_eq!(GuestAddress(u64::MAX).checked_align_up(2), None);
    assert_eq!(
        GuestAddress(u64::MAX - 0xffe).checked_align_up(0x1000),
        None
    );
    assert_eq!(
        GuestAddress(u64::MAX - 0xfff).checked_align_up(0x1000),
        Some(GuestAddress(u64::MAX - 0xfff))
    );
}

#[test]
fn checked_align_up_zero_alignment_panics() {
    assert!(catch_unwind(|| GuestAddress(1).checked_align_up(0)).is_err());
}

#[test]
fn checked_align_up_non_power_of_two_panics() {
    assert!(catch_unwind(|| GuestAddress(1).checked_align_up(3)).is_err());
    assert!(catch_unwind(|| GuestAddress(1).checked_align_up(0x1800)).is_err());
}

#[test]
fn unchecked_align_up_rounds_in_range() {
    assert_eq!(
        GuestAddress(0x1234).unchecked_align_up(0x1000),
        GuestAddress(0x2000)
    );
    assert_eq!(
        MemoryRegionAddress(7).unchecked_align_up(8),
        MemoryRegionAddress(8)
    );
}
