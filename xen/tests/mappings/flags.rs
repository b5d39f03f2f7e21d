//! `MmapXenFlags`: every combination of the defined bits, and unknown bits.

use vm_memory_core::GuestAddress;
use vm_memory_xen::{Error, MmapRange, MmapXenFlags};

/// What one value of the four low bits (`FOREIGN`, `GRANT`, the undefined bit 2, `NO_ADVANCE_MAP`)
/// must give: `None` for unknown bits, else `(valid, unix, foreign, grant, in_advance)`.
fn expected(bits: u32) -> Option<(bool, bool, bool, bool, bool)> {
    Some(match bits {
        0x0 => (true, true, false, false, true),
        0x1 => (true, false, true, false, true),
        0x2 => (true, false, false, true, true),
        0x3 => (false, false, true, true, true), // foreign and grant
        0x8 => (false, false, false, false, false), // unix must map in advance
        0x9 => (false, false, true, false, false), // foreign must map in advance
        0xa => (true, false, false, true, false), // lazily mapped grants
        0xb => (false, false, true, true, false),
        0x4..=0x7 | 0xc..=0xf => return None, // bit 2 is not defined
        _ => unreachable!(),
    })
}

#[test]
fn every_combination_of_the_low_bits_is_classified_as_upstream() {
    for bits in 0..16u32 {
        let flags = MmapXenFlags::from_bits(bits);
        let want = expected(bits);
        assert_eq!(flags.is_some(), want.is_some(), "from_bits({bits:#x})");
        let range = MmapRange::new(0x1000, None, GuestAddress(0), bits, 0);
        if let (Some(flags), Some((valid, unix, foreign, grant, advance))) = (flags, want) {
            let got = (
                flags.is_valid(),
                flags.is_unix(),
                flags.is_foreign(),
                flags.is_grant(),
                flags.mmap_in_advance(),
            );
            assert_eq!(got, (valid, unix, foreign, grant, advance), "{bits:#x}");
            match range.xen_flags() {
                Ok(checked) => assert!(valid && checked == flags, "{bits:#x}"),
                Err(Error::InvalidFlags(b)) => assert!(!valid && b == bits, "{bits:#x}"),
                Err(e) => panic!("{bits:#x}: {e}"),
            }
        } else {
            assert!(
                matches!(range.xen_flags(), Err(Error::InvalidFlags(b)) if b == bits),
                "{bits:#x} has an unknown bit"
            );
        }
    }
}

#[test]
fn unknown_high_bits_are_rejected_even_next_to_valid_ones() {
    for unknown in [0x10, 0x100, 0x8000_0000, 0xffff_fff0] {
        for valid in [0x0, 0x1, 0x2, 0xa] {
            let bits = unknown | valid;
            assert_eq!(MmapXenFlags::from_bits(bits), None, "{bits:#x}");
            let range = MmapRange::new(0x1000, None, GuestAddress(0), bits, 0);
            assert!(matches!(range.xen_flags(), Err(Error::InvalidFlags(b)) if b == bits));
        }
    }
}

#[test]
fn named_constants_have_upstream_values() {
    assert_eq!(MmapXenFlags::UNIX.bits(), 0);
    assert_eq!(MmapXenFlags::FOREIGN.bits(), 1);
    assert_eq!(MmapXenFlags::GRANT.bits(), 2);
    assert_eq!(MmapXenFlags::NO_ADVANCE_MAP.bits(), 8);
    assert_eq!(MmapXenFlags::ALL.bits(), 3);
    assert!(!MmapXenFlags::ALL.is_valid());
    assert!(MmapXenFlags::empty().is_unix());
}
